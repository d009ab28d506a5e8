<?php
// The request body, read in chunks: "LENGTH MD5".
$h = fopen('php://input', 'rb');
$ctx = hash_init('md5');
$n = 0;
while (($s = fread($h, 65536)) !== false && $s !== '') {
    hash_update($ctx, $s);
    $n += strlen($s);
}
echo $n, ' ', hash_final($ctx), "\n";
