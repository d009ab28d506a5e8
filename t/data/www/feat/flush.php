<?php
// Two chunks 1 s apart, each flushed to the web server at once.
while (ob_get_level()) {
    ob_end_flush();
}
echo "first chunk\n";
flush();
sleep(1);
echo "second chunk\n";
flush();
