<?php
// error_log() with php.ini's error_log unset: a message of ?n= bytes
// (default 20) that starts with ?tag= and ends with "<END>"; answers with
// the worker's pid.
$tag = $_GET['tag'] ?? 'tag';
$n = (int)($_GET['n'] ?? 20);
error_log($tag . ':' . str_repeat('m', max(0, $n - strlen($tag) - 6)) . '<END>');
echo getmypid(), "\n";
