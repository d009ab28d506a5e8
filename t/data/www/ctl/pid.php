<?php
// Which worker answered.
echo getmypid(), "\n";
