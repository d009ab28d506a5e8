<?php
// Response header cases, chosen by ?c=.
switch ($_GET['c'] ?? '') {
case 'custom':
    header('X-Custom: one');
    header('X-Another-Header: two words');
    break;
case 'multi':
    header('X-Multi: a');
    header('X-Multi: b', false);
    header('X-Replaced: old');
    header('X-Replaced: new');
    break;
case 'cookies':
    setcookie('a', '1');
    setcookie('b', 'two words', ['path' => '/p', 'httponly' => true, 'samesite' => 'Lax']);
    setrawcookie('c', 'raw%20value');
    header('Set-Cookie: d=4; Secure', false);
    break;
case 'remove':
    header('X-Gone: 1');
    header('X-Stay: 1');
    header_remove('X-Gone');
    break;
case 'remove-all':
    header('X-Gone: 1');
    header_remove();
    break;
case 'location':
    header('Location: /hello.php');
    break;
case 'location-301':
    header('Location: /hello.php', true, 301);
    break;
case 'location-201':
    http_response_code(201);
    header('Location: /created');
    break;
case 'status':
    header('Status: 404 Not Found');
    break;
case 'status-custom':
    header('Status: 299 Whatever Reason');
    break;
case 'http-line':
    header("HTTP/1.1 418 I'm a teapot");
    break;
case 'code':
    http_response_code(404);
    break;
case 'code-unknown':
    http_response_code(599);
    break;
case 'no-content':
    http_response_code(204);
    exit;
case 'not-modified':
    http_response_code(304);
    exit;
case 'ctype':
    header('Content-Type: application/json');
    echo "{}\n";
    exit;
case 'charset':
    ini_set('default_charset', 'ISO-8859-1');
    break;
case 'long':
    header('X-Long: ' . str_repeat('a', 3000));
    break;
case 'list':
    header('X-A: 1');
    echo var_export(headers_list(), true), "\n";
    break;
}
echo 'code=', var_export(http_response_code(), true), "\n";
