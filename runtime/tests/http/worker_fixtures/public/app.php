<?php
// Worker-mode test application (runtime/tests/http/worker_mode_e2e.py): boots once, then serves
// requests through ephpm_handle_request(); ?a=<action> picks what a request does.
declare(strict_types=1);

ini_set('precision', '10');  // set by the boot: requests must find it again after changing it
$boot = ephpm_kv_incr('boots');
ephpm_kv_set('boot_script', $_SERVER['SCRIPT_FILENAME'] ?? '');  // symfony/runtime needs it
echo 'BOOT-OUTPUT';  // discarded: no request is in flight
header('X-Boot-Header: 1');
if (($ms = ephpm_kv_get('boot_sleep_ms')) !== null) {
    usleep((int) $ms * 1000);
}
$GLOBALS['app_global'] = 0;

final class Counter
{
    public static int $n = 0;
}

$app = new stdClass();
$app->handled = 0;

function reply(array $data): void
{
    header('Content-Type: application/json');
    echo json_encode($data, JSON_UNESCAPED_SLASHES), "\n";
}

function dump(int $boot, stdClass $app): array
{
    $s = $_SERVER;
    return [
        'boot' => $boot, 'handled' => $app->handled, 'static' => Counter::$n,
        'global' => $GLOBALS['app_global'], 'pid' => getmypid(),
        'get' => $_GET, 'post' => $_POST, 'cookie' => $_COOKIE, 'files' => $_FILES,
        'request' => $_REQUEST,
        'server' => [
            'SCRIPT_FILENAME' => $s['SCRIPT_FILENAME'] ?? null, 'SCRIPT_NAME' => $s['SCRIPT_NAME'] ?? null,
            'PHP_SELF' => $s['PHP_SELF'] ?? null, 'REQUEST_URI' => $s['REQUEST_URI'] ?? null,
            'PATH_INFO' => $s['PATH_INFO'] ?? null, 'EPHPM_WORKER' => $s['EPHPM_WORKER'] ?? null,
            'LEAK' => $s['LEAK'] ?? null, 'HTTP_X_A' => $s['HTTP_X_A'] ?? null,
            'REQUEST_METHOD' => $s['REQUEST_METHOD'] ?? null,
        ],
        'input' => file_get_contents('php://input'),
        'ob_level' => ob_get_level(),
        'session_status' => session_status(), 'session_set' => isset($_SESSION),
        'session_id' => session_id(),
        'headers_list' => headers_list(), 'code' => http_response_code(),
        'ini' => [
            'memory_limit' => ini_get('memory_limit'), 'precision' => ini_get('precision'),
            'max_execution_time' => ini_get('max_execution_time'),
            'ignore_user_abort' => ini_get('ignore_user_abort'),
            'display_errors' => ini_get('display_errors'),
        ],
        'getallheaders' => getallheaders(),
    ];
}

$handler = static function () use ($boot, $app): void {
    $app->handled++;
    Counter::$n++;
    $GLOBALS['app_global']++;
    switch ($_GET['a'] ?? 'dump') {
        case 'dump':
            usleep((int) ($_GET['ms'] ?? 0) * 1000);
            reply(dump($boot, $app));
            break;
        case 'set':  // everything a request can change, left changed
            header('X-Leak: yes');
            http_response_code(418);
            setcookie('leak', '1');
            $_SERVER['LEAK'] = '1';
            $_GET['added'] = '1';
            ini_set('memory_limit', '300M');
            ini_set('precision', '3');
            ini_set('display_errors', '1');
            set_time_limit(7);
            ignore_user_abort(true);
            ob_start();
            ob_start();
            echo 'inner-output';
            break;
        case 'session':
            session_start();
            $_SESSION['count'] = ($_SESSION['count'] ?? 0) + 1;
            reply(['count' => $_SESSION['count'], 'id' => session_id()]);
            break;  // left open: the request end writes and closes it
        case 'upload':
            $f = $_FILES['f'] ?? null;
            reply(['name' => $f['name'] ?? null, 'tmp' => $f['tmp_name'] ?? null,
                   'uploaded' => $f !== null && is_uploaded_file($f['tmp_name']),
                   'size' => $f['size'] ?? null]);
            break;
        case 'exists':
            reply(['exists' => file_exists($_GET['path'] ?? '')]);
            break;
        case 'fatal':
            echo 'partial output';
            undefined_function_in_handler();
            break;
        case 'throw':
            throw new RuntimeException('boom from the handler');
        case 'exit':
            http_response_code(201);
            echo "exiting\n";
            exit();
        case 'spin':
            for (;;) {
            }
        case 'sleep':  // ?mark=KEY: the key is set once the request runs
            if (isset($_GET['mark'])) {
                ephpm_kv_set($_GET['mark'], 'running');
            }
            usleep((int) ($_GET['ms'] ?? 100) * 1000);
            echo "slept\n";
            break;
        case 'incr':
            echo ephpm_kv_incr('counter'), "\n";
            break;
        case 'finish':
            echo "visible\n";
            ephpm_kv_set('after_finish', fastcgi_finish_request() ? 'true' : 'false');
            echo "invisible\n";
            header('X-Too-Late: 1');
            break;
        case 'stream':
            echo "part1\n";
            flush();
            usleep(100000);
            echo "part2\n";
            break;
        case 'bigstream':  // the client goes away mid-stream
            for ($i = 0; $i < 200; $i++) {
                echo str_repeat('x', 65536);
                flush();
                usleep(5000);
            }
            ephpm_kv_set('bigstream_done', connection_aborted() ? 'aborted' : 'not aborted');
            break;
        case 'kvget':
            echo ephpm_kv_get($_GET['k'] ?? '') ?? 'null', "\n";
            break;
        case 'small':
            $x = str_repeat('x', 2000);
            $a = ['k' => $x, 'n' => $_GET['n'] ?? ''];
            echo strlen(json_encode($a)), "\n";
            break;
    }
};

while (ephpm_handle_request($handler)) {
    header('X-Between: 1');   // discarded too
    echo 'BETWEEN-REQUESTS';
}
