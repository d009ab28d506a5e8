<?php
// t/slowlog.bats: ?s= seconds (default 2) of calls in a loop, so that the
// stack moves all the time while the slowlog reads it.
function tick(int $i): int
{
    return $i + 1;
}

function spin(float $secs): int
{
    $t = microtime(true);
    $i = 0;
    while (microtime(true) - $t < $secs) {
        $i = tick($i);
    }
    return $i;
}

echo "ticks ", spin((float)($_GET['s'] ?? 2)), "\n";
