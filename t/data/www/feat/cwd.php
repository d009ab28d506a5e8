<?php
// The working directory during the request, and the script's directory.
echo 'getcwd=', getcwd(), "\n";
echo 'dir=', __DIR__, "\n";
echo 'pid=', getmypid(), "\n";
