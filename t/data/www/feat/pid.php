<?php
// The worker's pid.
echo getmypid(), "\n";
