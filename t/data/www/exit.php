<?php
// exit() with a status code: the output so far is the response.
echo "before exit\n";
exit(3);
echo "after exit\n";
