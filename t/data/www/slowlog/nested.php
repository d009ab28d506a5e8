<?php
// t/slowlog.bats: a method calling a function that sleeps ?us= microseconds
// (default 2.5 s). The slowlog entry names usleep(), nap() and run(), each
// with the line that called it (the test finds the lines marked "call").
// ?mark=FILE gets the worker's pid as the script starts; the answer says
// how long usleep() really slept, then 100000 x's and "end".
function nap(int $us): int
{
    $t = hrtime(true);
    usleep($us);                                 // call usleep
    return intdiv(hrtime(true) - $t, 1000);
}

class Sleeper
{
    public function run(int $us): int
    {
        return nap($us);                         // call nap
    }
}

if (isset($_GET['mark'])) {
    file_put_contents($_GET['mark'], getmypid());
}
$slept = (new Sleeper())->run((int)($_GET['us'] ?? 2500000)); // call run
echo "slept $slept\n", str_repeat('x', 100000), "\nend\n";
