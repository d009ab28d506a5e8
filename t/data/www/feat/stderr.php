<?php
// Writes one line of ?n= bytes (default 20) to php://stderr and one to
// php://stdout (the worker's own fds, not the response), each starting with
// ?tag= and ending with "<END>"; answers with the worker's pid.
$tag = $_GET['tag'] ?? 'tag';
$n = (int)($_GET['n'] ?? 20);
$line = $tag . ':' . str_repeat('e', max(0, $n - strlen($tag) - 6)) . '<END>';
file_put_contents('php://stderr', $line . "\n");
file_put_contents('php://stdout', "out-$tag<END>\n");
echo getmypid(), "\n";
