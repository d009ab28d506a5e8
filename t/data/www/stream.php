<?php
// Output flushed in pieces.
while (ob_get_level()) {
    ob_end_flush();
}
for ($i = 1; $i <= 5; $i++) {
    echo "chunk $i\n", str_repeat('.', 1000), "\n";
    flush();
}
