<?php
// Classic mode: fastcgi_finish_request() and getallheaders(); ephpm_handle_request() refuses.
if (isset($_GET['handle'])) {
    try {
        ephpm_handle_request(fn () => null);
    } catch (Error $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
    return;
}
echo json_encode(getallheaders()), "\n";
echo "visible\n";
ephpm_kv_set('classic_after_finish', fastcgi_finish_request() ? 'true' : 'false');
echo "invisible\n";
