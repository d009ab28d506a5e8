<?php
// Writes and flushes a line every ?ms= milliseconds, ?n= times, recording
// each step in the file ?f=; the shutdown function records what PHP knew
// of the client then.  ?ignore=1 calls ignore_user_abort(true) first;
// ?pad=N adds N bytes to each line (a web server that buffers notices a
// client gone only when it writes).
// t/abort.bats drops the client half way and reads the file.
$f = $_GET['f'];
$n = (int)($_GET['n'] ?? 100);
$us = (int)($_GET['ms'] ?? 50) * 1000;
$pad = str_repeat('.', (int)($_GET['pad'] ?? 0));
if (!empty($_GET['ignore'])) {
    ignore_user_abort(true);
}
register_shutdown_function(function () use ($f) {
    file_put_contents($f, sprintf("shutdown connection_aborted=%d " .
        "connection_status=%d\n", connection_aborted(), connection_status()),
        FILE_APPEND);
});
while (ob_get_level()) {
    ob_end_flush();
}
for ($i = 0; $i < $n; $i++) {
    echo "step $i$pad\n";
    flush();
    file_put_contents($f, "step $i\n", FILE_APPEND);
    usleep($us);
}
file_put_contents($f, "end\n", FILE_APPEND);
