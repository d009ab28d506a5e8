<?php
// Uploaded files: PHP's view of them plus a checksum of what arrived.
echo 'upload_max_filesize=', ini_get('upload_max_filesize'), "\n";
echo 'post_max_size=', ini_get('post_max_size'), "\n";
echo 'CONTENT_LENGTH=', $_SERVER['CONTENT_LENGTH'] ?? '(unset)', "\n";
echo 'input_length=', strlen(file_get_contents('php://input')), "\n";
echo 'POST=', var_export($_POST, true), "\n";
echo 'FILES=', var_export($_FILES, true), "\n";
array_walk_recursive($_FILES, function ($v, $k) {
    if ($k === 'tmp_name' && $v !== '') {
        echo $v, ' ', md5_file($v), ' ', var_export(is_uploaded_file($v), true), "\n";
    }
});
