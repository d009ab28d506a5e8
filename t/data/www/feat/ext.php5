<?php
echo "php5 script ran\n";
