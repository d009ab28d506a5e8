<?php
// A session counter.
session_start();
$_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
echo 'n=', $_SESSION['n'], "\n";
echo 'name=', session_name(), ' id_length=', strlen(session_id()), "\n";
