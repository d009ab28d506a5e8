<?php
// REQUEST_TIME, REQUEST_TIME_FLOAT and the time now.
printf("REQUEST_TIME=%s\n", var_export($_SERVER['REQUEST_TIME'] ?? null, true));
printf("REQUEST_TIME_FLOAT=%s\n", var_export($_SERVER['REQUEST_TIME_FLOAT'] ?? null, true));
printf("now=%.6F\n", microtime(true));
