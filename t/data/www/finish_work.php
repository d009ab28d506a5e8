<?php
// Work after fastcgi_finish_request(): the client has its answer, what the
// script prints afterwards goes nowhere, and the script runs to its end
// (?mark=FILE: it writes FILE last). No flush(): php-fpm ends a script
// whose output after the finish reaches the connection (php-src #9741).
header('X-Before: 1');
echo "answered\n";
fastcgi_finish_request();
echo "discarded\n";
var_dump([1, 'two']);
print "more\n";
$mark = $_GET['mark'] ?? '';
if ($mark !== '') {
    file_put_contents($mark, "ran to the end\n");
}
