<?php
// ini settings as this request sees them. ?k=a,b: ini_get of each;
// ?set[]=name:value: ini_set, its return value and the value after it.
// "third" is 1/3 printed with the current precision.
echo 'pid=', getmypid(), "\n";
foreach (explode(',', $_GET['k'] ?? '') as $k) {
    if ($k !== '') {
        echo $k, '=', var_export(ini_get($k), true), "\n";
    }
}
foreach ((array)($_GET['set'] ?? []) as $kv) {
    [$k, $v] = explode(':', $kv, 2);
    echo "ini_set($k)=", var_export(ini_set($k, $v), true), "\n";
    echo "$k after=", var_export(ini_get($k), true), "\n";
}
echo 'third=', 1 / 3, "\n";
