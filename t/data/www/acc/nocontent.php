<?php
// 204: a success other than 200 (access.suppress_path drops it too).
http_response_code(204);
