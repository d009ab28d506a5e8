<?php
// For each uploaded file: field, name, size, md5 and whether its tmp file
// exists now; the tmp paths are also written to ?list= for a later check.
$tmps = [];
foreach ($_FILES as $field => $f) {
    $ok = is_uploaded_file($f['tmp_name']);
    echo $field, ' ', $f['name'], ' ', $f['size'], ' ', $f['error'], ' ',
        md5_file($f['tmp_name']), ' ', var_export($ok, true), "\n";
    $tmps[] = $f['tmp_name'];
}
if (isset($_GET['list'])) {
    file_put_contents($_GET['list'], implode("\n", $tmps) . "\n");
}
echo 'count=', count($_FILES), "\n";
