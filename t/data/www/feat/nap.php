<?php
// Sleeps ?s= seconds and says how long the sleep really took: a signal
// that reached the script would cut it short.  ?mark=FILE is written as
// the script starts.
if (isset($_GET['mark'])) {
    file_put_contents($_GET['mark'], getmypid());
}
$t0 = microtime(true);
usleep((int)(1e6 * (float)($_GET['s'] ?? 1)));
printf("slept=%.2f\n", microtime(true) - $t0);
