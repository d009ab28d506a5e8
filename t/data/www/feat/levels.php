<?php
// A PHP message of the kind ?k= asks for (fatal, warning, notice,
// deprecated, exception, errorlog), tagged with ?tag=.
$tag = $_GET['tag'] ?? 'tag';
switch ($_GET['k'] ?? '') {
case 'fatal':
    trigger_error("$tag fatal", E_USER_ERROR);
    break;
case 'warning':
    trigger_error("$tag warning", E_USER_WARNING);
    break;
case 'notice':
    trigger_error("$tag notice", E_USER_NOTICE);
    break;
case 'deprecated':
    trigger_error("$tag deprecated", E_USER_DEPRECATED);
    break;
case 'exception':
    function inner($t) { throw new RuntimeException("$t exception"); }
    function outer($t) { inner($t); }
    outer($tag);
    break;
case 'errorlog':
    error_log("$tag errorlog");
    break;
}
echo "done\n";
