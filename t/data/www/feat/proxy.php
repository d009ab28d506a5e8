<?php
// httpoxy: a "Proxy:" request header must not become HTTP_PROXY.
echo 'getenv(HTTP_PROXY)=', var_export(getenv('HTTP_PROXY'), true), "\n";
echo 'SERVER[HTTP_PROXY]=', var_export(array_key_exists('HTTP_PROXY', $_SERVER), true), "\n";
echo 'getenv(HTTP_X_OTHER)=', var_export(getenv('HTTP_X_OTHER'), true), "\n";
echo 'SERVER[HTTP_X_OTHER]=', var_export($_SERVER['HTTP_X_OTHER'] ?? null, true), "\n";
