<?php
// Response headers past nginx's default 4 KB header buffer: one long header
// of ?one=N bytes, ?many=N headers of 100 bytes, ?cookies=N cookies.
$one = min((int)($_GET['one'] ?? 0), 60000);
$many = min((int)($_GET['many'] ?? 0), 500);
$cookies = min((int)($_GET['cookies'] ?? 0), 500);
if ($one > 0) {
    header('X-One: ' . str_repeat('o', $one));
}
for ($i = 0; $i < $many; $i++) {
    header(sprintf('X-Many-%03d: %s', $i, str_repeat(chr(97 + $i % 26), 86)));
}
for ($i = 0; $i < $cookies; $i++) {
    setcookie(sprintf('c%03d', $i), str_repeat('v', 40), ['path' => '/']);
}
// The request's own headers, to compare what arrived.
$in = 0;
foreach ($_SERVER as $k => $v) {
    if (strncmp($k, 'HTTP_', 5) === 0) {
        $in += strlen($k) + strlen($v);
    }
}
echo "one=$one many=$many cookies=$cookies request_header_bytes=$in\n";
echo 'sent=', strlen(implode("\r\n", headers_list())), "\n";
