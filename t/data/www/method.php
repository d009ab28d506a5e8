<?php
// The request method and whatever body came with it.
$in = file_get_contents('php://input');
echo 'REQUEST_METHOD=', $_SERVER['REQUEST_METHOD'], "\n";
echo 'CONTENT_TYPE=', $_SERVER['CONTENT_TYPE'] ?? '(unset)', "\n";
echo 'CONTENT_LENGTH=', $_SERVER['CONTENT_LENGTH'] ?? '(unset)', "\n";
echo 'input=', strlen($in), ' ', md5($in), "\n";
echo 'GET=', var_export($_GET, true), "\n";
echo 'POST=', var_export($_POST, true), "\n";
echo "body follows\n";
