<?php
// A slow request: ?mark=FILE is created when the script starts, then it
// sleeps ?s= seconds and sends a body of ?n= bytes between "begin" and "end".
if (isset($_GET['mark'])) {
    file_put_contents($_GET['mark'], getmypid());
}
echo "begin\n";
sleep((int)($_GET['s'] ?? 1));
echo str_repeat('x', (int)($_GET['n'] ?? 100000)), "\n";
echo "end\n";
