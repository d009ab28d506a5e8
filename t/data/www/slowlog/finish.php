<?php
// t/slowlog.bats: answers, then works ?us= microseconds (default 2 s)
// after fastcgi_finish_request(), which stops the slowlog's clock as it
// stops php-fpm's.
echo "answered\n";
fastcgi_finish_request();
usleep((int)($_GET['us'] ?? 2000000));
