<?php
// Writes random bytes over this worker's own scoreboard slot, found by the
// query string it carries there (which must start with marker=...), then
// writes "scribbled" to ?mark=FILE and sleeps ?s= seconds: what a buggy or
// hostile worker can do to the shared pages.  ?query=OFFSET of the query
// in a slot and ?size=SIZE of a slot come from the test, which reads them
// from fpmd's own header.  Needs FFI (ffi.enable = 1).
$marker = 'marker=' . $_GET['marker'] . '&';
$qoff = (int)$_GET['query'];
$size = (int)$_GET['size'];
$ffi = FFI::cdef('void *memmem(const void *h, size_t hl, const void *n, size_t nl);',
    'libc.so.6');

// FFI converts between pointers and integers through memory only.
function ptr_at(int $addr, &$keep)
{
    $keep = FFI::new('uintptr_t');
    $keep->cdata = $addr;
    return FFI::cast('uint8_t **', FFI::addr($keep))[0];
}

function addr_of($ptr): int
{
    $u = FFI::new('uintptr_t');
    FFI::memcpy(FFI::addr($u), FFI::addr($ptr), FFI::sizeof($u));
    return $u->cdata;
}

$done = false;
foreach (file('/proc/self/maps') as $l) {
    // the scoreboard: a shared anonymous mapping
    if (!preg_match('/^([0-9a-f]+)-([0-9a-f]+) rw-s .*\/dev\/zero/', $l, $m)) {
        continue;
    }
    $lo = hexdec($m[1]);
    $hit = $ffi->memmem(ptr_at($lo, $k1), hexdec($m[2]) - $lo, $marker,
        strlen($marker));
    if ($hit === null) {
        continue;
    }
    FFI::memcpy(ptr_at(addr_of($hit) - $qoff, $k2), random_bytes($size),
        $size);
    $done = true;
    break;
}
$result = $done ? "scribbled" : "slot not found";
file_put_contents($_GET['mark'], $result);
echo $result, "\n";
usleep((int)(1e6 * (float)($_GET['s'] ?? 0)));
