<?php
// opcache.preload script that makes PHP's start-up take ?2 s, so that a
// pool's restart is still under way when a test acts.
usleep(2000000);
