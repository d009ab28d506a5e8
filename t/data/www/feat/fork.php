<?php
// pcntl_fork() in a request: the child outlives the answer by ?ms=
// milliseconds, prints (which must reach no one), and ends its script by
// returning, or by exit() with ?end=exit.
$ms = (int)($_GET['ms'] ?? 1000);
$pid = pcntl_fork();
if ($pid === 0) {
	usleep($ms * 1000);
	echo "the child's output\n";
	if (($_GET['end'] ?? '') === 'exit')
		exit(0);
	return;
}
echo "parent ", getmypid(), " forked ", $pid, "\n";
