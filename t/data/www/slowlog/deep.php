<?php
// t/slowlog.bats: ?n= nested calls of down() (default 30), the innermost
// sleeping ?us= microseconds (default 2.5 s): more frames than the default
// request_slowlog_trace_depth (20).
function down(int $n, int $us): void
{
    if ($n > 0) {
        down($n - 1, $us);
        return;
    }
    usleep($us);
}

down((int)($_GET['n'] ?? 30), (int)($_GET['us'] ?? 2500000));
echo "done\n";
