<?php
// Output after fastcgi_finish_request(): the client gets only what came
// before it, and the script still runs to its end.  ?m= says what the
// script writes after finishing; ?ob=1 opens an output buffer before;
// the end of the script and its shutdown function each add a line to ?f=.
$f = $_GET['f'];
register_shutdown_function(function () use ($f) {
    echo "from the shutdown function\n";
    file_put_contents($f, "shutdown function ran\n", FILE_APPEND);
});
if (!empty($_GET['ob'])) {
    ob_start();
}
echo "before finish\n";
$r = fastcgi_finish_request();
switch ($_GET['m'] ?? '') {
case 'echo':
    echo "after finish\n";
    break;
case 'print':
    print "after finish\n";
    printf("%s\n", 'printf after finish');
    break;
case 'var_dump':
    var_dump($r, [1, 2, 3]);
    break;
case 'flush':
    echo 'a';
    flush();
    echo str_repeat('b', 100000);
    flush();
    break;
case 'big':
    echo str_repeat('x', 1 << 20);
    break;
case 'ob':
    ob_start();
    echo "buffered after finish\n";
    ob_end_flush();
    ob_start();
    echo "left in an open buffer\n";
    break;
}
file_put_contents($f, 'end of script, fastcgi_finish_request() returned ' .
    var_export($r, true) . ', connection_status() ' . connection_status() .
    "\n", FILE_APPEND);
