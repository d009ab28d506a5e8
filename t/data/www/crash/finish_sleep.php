<?php
// fastcgi_finish_request(), then ?s= seconds of work that ends by writing
// ?f=: the file is there only if the worker was let finish.
echo "finished\n";
fastcgi_finish_request();
sleep((int)($_GET['s'] ?? 4));
file_put_contents($_GET['f'], 'work done after finish');
