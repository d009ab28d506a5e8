<?php
// A fatal error with display_errors on: 200 and the message.
ini_set('display_errors', '1');
ini_set('html_errors', '0');
echo "before\n";
no_such_function();
