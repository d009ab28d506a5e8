<?php
// php://input can be read more than once.
$a = file_get_contents('php://input');
$b = file_get_contents('php://input');
$h = fopen('php://input', 'r');
$c = fread($h, 4);
rewind($h);
$d = stream_get_contents($h);
echo 'first=', strlen($a), ' ', md5($a), "\n";
echo 'second=', strlen($b), ' ', md5($b), "\n";
echo 'head=', var_export($c, true), ' rewound=', var_export($d === $a, true), "\n";
echo 'json=', var_export(json_decode($a, true), true), "\n";
echo 'POST=', var_export($_POST, true), "\n";
