<?php
// A parse error.
echo 'a' 'b';
