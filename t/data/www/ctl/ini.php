<?php
// The effective value of the php.ini setting ?k= (default precision).
echo ini_get($_GET['k'] ?? 'precision'), "\n";
