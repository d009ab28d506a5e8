<?php
// The settings t/userini.bats looks at, one "name=value" line each; with
// ?probe=PATH, whether open_basedir lets the script read PATH.
$names = ['precision', 'highlight.keyword', 'upload_max_filesize',
    'memory_limit', 'allow_url_fopen', 'default_mimetype', 'open_basedir'];
foreach ($names as $n) {
	printf("%s=%s\n", $n, var_export(ini_get($n), true));
}
if (isset($_GET['probe'])) {
	printf("probe=%s\n",
	    @file_get_contents($_GET['probe']) === false ? 'refused' : 'read');
}
