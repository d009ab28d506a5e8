<?php
// Every param as "NAME LENGTH MD5(VALUE)", for params too long to compare
// as text.
foreach ($_SERVER as $k => $v) {
    if (is_string($v)) {
        echo $k, ' ', strlen($v), ' ', md5($v), "\n";
    }
}
