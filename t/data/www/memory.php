<?php
// Going over memory_limit.
ini_set('memory_limit', '16M');
$s = str_repeat('x', 32 * 1024 * 1024);
echo strlen($s), "\n";
