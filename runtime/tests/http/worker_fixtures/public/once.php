<?php
// A worker script that serves one request and returns (no loop): booted again every time.
ephpm_kv_incr('once_boots');
ephpm_handle_request(function (): void {
    echo "once\n";
});
