<?php
// Effective settings: php.ini, pool php_value/php_admin_value, extensions.
foreach (['memory_limit', 'display_errors', 'post_max_size', 'upload_max_filesize',
    'upload_tmp_dir', 'session.save_path', 'max_execution_time', 'output_buffering',
    'default_charset', 'expose_php', 'cgi.fix_pathinfo', 'variables_order',
    'opcache.enable', 'short_open_tag'] as $k) {
    echo $k, '=', var_export(ini_get($k), true), "\n";
}
echo 'php_ini_loaded_file=', php_ini_loaded_file(), "\n";
echo 'ini_set(memory_limit)=', var_export(ini_set('memory_limit', '100M'), true), "\n";
echo 'ini_set(session.save_path)=', var_export(ini_set('session.save_path', '/nowhere'), true), "\n";
echo 'opcache_enabled=', var_export(function_exists('opcache_get_status')
    && (opcache_get_status(false)['opcache_enabled'] ?? false), true), "\n";
// pcntl is built into Debian's libphp8.2-embed and cannot be left out; php-fpm
// is built without it (docs/compatibility.md).
$ext = array_values(array_diff(get_loaded_extensions(), ['pcntl']));
sort($ext);
echo 'extensions=', implode(' ', $ext), "\n";
