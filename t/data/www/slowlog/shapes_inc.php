<?php
// Included by shapes.php.
eval('nap($us);');
