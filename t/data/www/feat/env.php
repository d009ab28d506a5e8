<?php
// Environment variables as getenv() and $_ENV/$_SERVER see them.
foreach (explode(',', $_GET['k'] ?? 'FOO') as $k) {
    echo $k, '=', var_export(getenv($k), true), "\n";
}
echo 'count(getenv())=', count(getenv()), "\n";
