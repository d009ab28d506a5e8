<?php
// Parsed request variables.
echo 'GET=', var_export($_GET, true), "\n";
echo 'POST=', var_export($_POST, true), "\n";
echo 'COOKIE=', var_export($_COOKIE, true), "\n";
echo 'REQUEST=', var_export($_REQUEST, true), "\n";
echo 'FILES=', var_export($_FILES, true), "\n";
