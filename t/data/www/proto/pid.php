<?php
// The worker that ran the request: tests compare it across requests.
echo 'pid=', getmypid(), "\n";
