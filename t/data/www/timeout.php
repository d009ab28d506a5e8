<?php
// max_execution_time: one second of CPU in a loop.
set_time_limit(1);
echo "start\n";
for (;;) { }
