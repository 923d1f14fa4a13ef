<?php
// ePHPm's worker primitives (Ephpm\Worker\take_request / send_response), for the e2e tests.
$boot = ephpm_kv_incr('envelope_boots');
$previous = null;
while (($env = \Ephpm\Worker\take_request()) !== null) {
    $q = $env->query();
    if (isset($q['echo'])) {
        header('X-From-Header: h');
        echo 'echoed+';
        \Ephpm\Worker\send_response(202, ['X-Multi' => ['a', 'b'], 'Content-Type' => 'text/plain'], 'body');
        continue;
    }
    if (isset($q['noanswer'])) {
        echo 'answered from output';
        continue;  // the next take_request() answers it
    }
    $out = [
        'boot' => $boot,
        'uri' => $env->serverVars()['REQUEST_URI'] ?? null,
        'method' => $env->serverVars()['REQUEST_METHOD'] ?? null,
        'headers' => $env->headers(), 'cookies' => $env->cookies(), 'query' => $q,
        'parsedBody' => $env->parsedBody(), 'files' => $env->files(), 'raw' => $env->rawBody(),
        'stream' => stream_get_contents($env->bodyStream()),
        'previous' => $previous === null ? null : [$previous->query(), $previous->rawBody(), $previous->headers()],
        'superglobal_get' => $_GET,
    ];
    $previous = $env;
    \Ephpm\Worker\send_response(201, ['Content-Type' => 'application/json', 'X-Env' => 'yes'], json_encode($out));
}
