<?php
// A worker that floods the log: ?n= error_log() lines of ?len= bytes
// (default 20000 of 200), as fast as it can; answers with how long it took.
$n = (int)($_GET['n'] ?? 20000);
$line = str_repeat('c', (int)($_GET['len'] ?? 200));
$t = microtime(true);
for ($i = 0; $i < $n; $i++) {
    error_log("chatty $i $line");
}
printf("done %d %.3f\n", $n, microtime(true) - $t);
