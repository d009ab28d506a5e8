<?php
// What t/import.bats compares between php-fpm and fpmd: the settings and
// the environment a converted configuration gives a script.
foreach (['memory_limit', 'date.timezone', 'display_errors', 'error_reporting',
    'log_errors', 'upload_max_filesize', 'max_execution_time'] as $k) {
    echo $k, '=', var_export(ini_get($k), true), "\n";
}
echo 'ini_set(error_reporting)=', var_export(ini_set('error_reporting', '0'), true), "\n";
foreach (['GREETING', 'FROM_MASTER'] as $k) {
    echo $k, '=', var_export(getenv($k), true), "\n";
}
