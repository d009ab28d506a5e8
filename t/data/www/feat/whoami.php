<?php
// Who PHP runs as.
echo 'euid=', posix_geteuid(), ' egid=', posix_getegid(), ' uid=', posix_getuid(),
    ' user=', posix_getpwuid(posix_geteuid())['name'], ' pid=', getmypid(), "\n";
