<?php
/* The page contrib/demo.sh serves through nginx and fpmd. */
$op = function_exists('opcache_get_status') ? opcache_get_status(false) : false;
?>
<!DOCTYPE html>
<html><head><title>fpmd demo</title></head>
<body>
<h1>Hello from fpmd</h1>
<table>
<tr><td>SAPI</td><td><?= htmlspecialchars(php_sapi_name()) ?></td></tr>
<tr><td>PHP</td><td><?= PHP_VERSION ?></td></tr>
<tr><td>worker pid</td><td><?= getmypid() ?></td></tr>
<tr><td>opcache</td><td><?= $op && $op['opcache_enabled'] ? 'on' : 'off' ?></td></tr>
<tr><td>request</td><td><?= htmlspecialchars($_SERVER['REQUEST_METHOD'] . ' ' . $_SERVER['REQUEST_URI']) ?></td></tr>
<tr><td>time</td><td><?= date('c') ?></td></tr>
</table>
</body></html>
