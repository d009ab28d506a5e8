<?php
// fastcgi_finish_request(), then 2 s of work that ends by writing ?f=.
echo "before finish\n";
$r = fastcgi_finish_request();
sleep(2);
file_put_contents($_GET['f'], 'work done after finish, returned ' . var_export($r, true));
