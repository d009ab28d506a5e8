<?php
// A warning shown in the page, then the script goes on.
ini_set('display_errors', '1');
ini_set('html_errors', '0');
echo $undefined;
echo "after warning\n";
