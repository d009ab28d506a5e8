<?php
// A fatal error after the headers went out: the status stays 200.
echo str_repeat("x", 10000), "\n";
flush();
no_such_function();
