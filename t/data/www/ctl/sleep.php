<?php
// A slow request for the control-plane tests: ?mark=FILE is written (with
// the worker's pid) as the script starts; then it sleeps ?s= seconds
// (fractions allowed) and sends ?n= bytes of 'x' between "begin" and "end".
// Nothing is flushed before the end: a request cut short shows as a 502.
if (isset($_GET['mark'])) {
    file_put_contents($_GET['mark'], getmypid());
}
usleep((int)(1e6 * (float)($_GET['s'] ?? 1)));
echo "begin\n", str_repeat('x', (int)($_GET['n'] ?? 100000)), "\nend\n";
