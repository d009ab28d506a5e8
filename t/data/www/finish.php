<?php
// fastcgi_finish_request(): the client gets what came before it, only.
header('X-Before: 1');
echo "before\n";
$r = fastcgi_finish_request();
header('X-After: 1');
echo 'after ', var_export($r, true), "\n";
