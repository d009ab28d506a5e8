<?php
// Log lines of a chosen length for t/logsock.bats: ?k=php sends a PHP
// message (error_log()) of ?n= bytes, ?k=stderr writes a line of ?n= bytes
// to the worker's stderr, ?k=pieces writes one stderr line in three
// write()s, the newline in the last, and ?k=partial a line without its
// newline.  Every text starts with ?tag= and
// ends with "<END>"; ?count= repeats it.  The answer is the worker's pid.
$tag = $_GET['tag'] ?? 'tag';
$n = (int)($_GET['n'] ?? 20);
$count = (int)($_GET['count'] ?? 1);
$text = $tag . ':' . str_repeat('x', max(0, $n - strlen($tag) - 6)) . '<END>';
switch ($_GET['k'] ?? '') {
case 'php':
    for ($i = 0; $i < $count; $i++)
        error_log($text);
    break;
case 'stderr':
    file_put_contents('php://stderr', $text . "\n");
    break;
case 'pieces':
    $err = fopen('php://stderr', 'w');
    fwrite($err, "$tag:one-");
    fflush($err);
    usleep(100000);
    fwrite($err, "two-");
    fflush($err);
    usleep(100000);
    fwrite($err, "three<END>\n");
    fclose($err);
    break;
case 'partial':
    file_put_contents('php://stderr', $text);
    break;
}
echo getmypid(), "\n";
