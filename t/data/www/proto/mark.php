<?php
// Leaves a trace that PHP ran: creates the file named by the MARK param.
touch($_SERVER['MARK']);
echo "marked\n";
