<?php
// An uncaught exception, display_errors on.
ini_set('display_errors', '1');
ini_set('html_errors', '0');
function f() { throw new RuntimeException('boom'); }
f();
