<?php
// The worker dies on SIGSEGV in the middle of the request.
echo "about to crash\n";
flush();
posix_kill(getmypid(), 11);
sleep(5);
echo "still alive\n";
