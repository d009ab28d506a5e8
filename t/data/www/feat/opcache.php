<?php
// Opcache statistics as this worker sees them.
$s = opcache_get_status(false);
echo 'pid=', getmypid(), "\n";
echo 'enabled=', var_export($s['opcache_enabled'] ?? false, true), "\n";
echo 'hits=', $s['opcache_statistics']['hits'] ?? -1, "\n";
echo 'cached=', $s['opcache_statistics']['num_cached_scripts'] ?? -1, "\n";
