<?php
// A redirect with no query string (t/accesslog.bats: access.suppress_path
// keeps a request that did not succeed).
header('Location: /hello.php');
