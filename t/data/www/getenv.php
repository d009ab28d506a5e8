<?php
// getenv() without a name and $_ENV: every key but those that change on
// each request, sorted, with its value.
$e = getenv();
unset($e['REQUEST_TIME'], $e['REQUEST_TIME_FLOAT'], $e['REMOTE_PORT']);
ksort($e);
foreach ($e as $k => $v) {
    echo $k, '=', $v, "\n";
}
echo 'count($_ENV)=', count($_ENV), "\n";
