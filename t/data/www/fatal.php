<?php
// A fatal error before any output went out (display_errors off): 500,
// and the buffered output still goes out.
echo "buffered before the error\n";
no_such_function();
