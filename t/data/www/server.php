<?php
// $_SERVER keys a php-fpm user relies on, in a fixed order, then every
// HTTP_* key sorted. ?all=1: every key, sorted, but those that change on
// each request.
function show($k, $v)
{
    echo $k, '=', is_string($v) ? $v : var_export($v, true), "\n";
}

if (isset($_GET['all'])) {
    $s = $_SERVER;
    unset($s['REQUEST_TIME'], $s['REQUEST_TIME_FLOAT'], $s['REMOTE_PORT']);
    ksort($s);
    foreach ($s as $k => $v) {
        show($k, $v);
    }
    exit;
}
$keys = ['SCRIPT_NAME', 'SCRIPT_FILENAME', 'PATH_INFO', 'PATH_TRANSLATED',
    'PHP_SELF', 'REQUEST_URI', 'DOCUMENT_URI', 'QUERY_STRING', 'DOCUMENT_ROOT',
    'REQUEST_METHOD', 'CONTENT_TYPE', 'CONTENT_LENGTH', 'GATEWAY_INTERFACE',
    'SERVER_PROTOCOL', 'SERVER_SOFTWARE', 'SERVER_NAME', 'SERVER_ADDR',
    'SERVER_PORT', 'REMOTE_ADDR', 'REQUEST_SCHEME', 'HTTPS', 'REDIRECT_STATUS',
    'ORIG_PATH_INFO', 'ORIG_SCRIPT_NAME', 'ORIG_SCRIPT_FILENAME',
    'ORIG_PATH_TRANSLATED', 'FCGI_ROLE'];
foreach ($keys as $k) {
    show($k, array_key_exists($k, $_SERVER) ? $_SERVER[$k] : '(unset)');
}
$http = array_filter(array_keys($_SERVER), fn($k) => strncmp($k, 'HTTP_', 5) == 0);
sort($http);
foreach ($http as $k) {
    show($k, $_SERVER[$k]);
}
show('php_sapi_name()', php_sapi_name());
show('PHP_SAPI', PHP_SAPI);
foreach (['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'HTTP_HOST', 'HTTP_PROXY'] as $k) {
    show("getenv($k)", getenv($k));
}
show('count($_ENV)', count($_ENV));
