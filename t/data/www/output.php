<?php
// Exactly ?n= bytes: numbered 64-byte lines, the last one cut short.
$n = (int)($_GET['n'] ?? 0);
$i = 0;
$buf = '';
while ($n > 0) {
    $line = sprintf("%08d ", $i++) . str_repeat('abcdefgh', 6) . "012345\n";
    if ($n < 64) {
        $line = substr($line, 0, $n);
    }
    $buf .= $line;
    $n -= strlen($line);
    if (strlen($buf) >= 65536) {
        echo $buf;
        $buf = '';
    }
}
echo $buf;
