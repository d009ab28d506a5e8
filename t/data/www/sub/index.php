<?php
// Reached as /sub/ through nginx's index.
require __DIR__ . '/../server.php';
