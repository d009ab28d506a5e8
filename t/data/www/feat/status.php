<?php
// fpm_get_status() for t/status.bats: the keys in order with the types of
// their values (the pool's, and each process's), the entry of this very
// process, and the whole array.
function shape(array $a): array {
    $o = [];
    foreach ($a as $k => $v) {
        $o[] = [$k, gettype($v)];
    }
    return $o;
}
$s = fpm_get_status();
$procs = [];
$self = null;
foreach ($s['procs'] as $i => $p) {
    $procs[] = [$i, shape($p)];
    if ($p['pid'] === getmypid()) {
        $self = $p;
    }
}
header('Content-Type: application/json');
echo json_encode(['pool' => shape($s), 'procs' => $procs, 'self' => $self,
    'status' => $s]);
