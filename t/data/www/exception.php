<?php
// An uncaught exception, display_errors off.
throw new RuntimeException('boom');
