<?php
// The load of the reload tests: a fixed body, so that a cut one shows.
echo "ok\n";
