<?php
// t/slowlog.bats: the frames php-fpm names its own ways, for the comparison
// of fpmd's slowlog with php-fpm's: a closure called from a C function
// (array_map), a static method, an include and an eval (both
// "[INCLUDE_OR_EVAL]"), code in an eval (its file is "... : eval()'d code").
function nap(int $us): void
{
    usleep($us);
}

final class Box
{
    public static function open(int $us): void
    {
        include __DIR__ . '/shapes_inc.php';
    }
}

$us = (int)($_GET['us'] ?? 1500000);
array_map(function (int $us) { Box::open($us); }, [$us]);
echo "done\n";
