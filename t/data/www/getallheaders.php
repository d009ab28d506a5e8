<?php
// Request headers as PHP rebuilds them.
foreach (getallheaders() as $k => $v) {
    echo "$k: $v\n";
}
echo 'same as apache_request_headers: ', var_export(apache_request_headers() === getallheaders(), true), "\n";
