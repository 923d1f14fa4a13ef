#!/usr/bin/env python3
"""End-to-end tests of the Redis-protocol listener ([kv.redis_compat]) under `ephpm serve`.

Usage: resp_e2e.py path/to/ephpm [-k name-filter]
Environment: EPHPM_RESP_FUZZ_SEED (default 20261205, printed), EPHPM_RESP_FUZZ_FRAMES (default
20000), EPHPM_RESP_PHP_CLIENTS=dir (the Composer project of runtime/tests/resp/php with vendor/
installed: then phpredis, Predis and Symfony's RedisAdapter / RedisSessionHandler run against the
listener too).

Each test starts the servers it needs (port 0 for HTTP and RESP, read back from stdout) and stops
them by pid. Prints `N passed, M failed` and exits non-zero on failure.
"""
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import e2e  # noqa: E402  (Suite, Server, check, eq)

check, eq = e2e.check, e2e.eq
BINARY = None   # set by setup() from SUITE.ctx
WORKDIR = None
SUITE = e2e.Suite()
test = SUITE.test

KV_PAGE = r"""<?php
// The PHP side of the interop tests: ?op=set|get|del&k=...&v=... (values as hex, so binary is safe).
$k = hex2bin($_GET['k'] ?? '');
switch ($_GET['op'] ?? '') {
  case 'set': echo ephpm_kv_set($k, hex2bin($_GET['v'] ?? ''), (int) ($_GET['ttl'] ?? 0)) ? 'ok' : 'refused'; break;
  case 'get': $v = ephpm_kv_get($k); echo $v === null ? 'NULL' : ($v === false ? 'FALSE' : 'hex:' . bin2hex($v)); break;
  case 'incr': echo ephpm_kv_incr($k); break;
  case 'ttl': echo ephpm_kv_ttl($k); break;
}
"""


class RespServer:
    """`ephpm serve` with [kv.redis_compat] enabled on 127.0.0.1:0."""

    def __init__(self, name, redis_compat="", workers=2, extra=""):
        d = os.path.join(WORKDIR, name)
        os.makedirs(os.path.join(d, "public"), exist_ok=True)
        with open(os.path.join(d, "public", "kv.php"), "w") as f:
            f.write(KV_PAGE)
        cfg = ('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "public"\n'
               '[php]\nworkers = %d\n[kv]\nmemory_limit = "32MB"\n[log]\nlevel = "warn"\n'
               '[kv.redis_compat]\nenabled = true\nlisten = "127.0.0.1:0"\n%s\n%s'
               % (workers, redis_compat, extra))
        self.srv = e2e.Server(BINARY, d, cfg, "ephpm")

    def __enter__(self):
        self.srv.start()
        out = open(self.srv.stdout_path).read()
        m = re.search(r"ephpm: redis_compat listening on 127\.0\.0\.1:(\d+)", out)
        check(m, "no redis_compat line in stdout: %r" % out)
        self.port = int(m.group(1))
        self.http = self.srv.port
        return self

    def __exit__(self, *a):
        rc = self.srv.stop()
        if a[0] is None:
            eq(rc, 0, "ephpm serve exit code after SIGTERM")
            check(not port_open(self.port), "the RESP port is still open after serve stopped")

    def php(self, op, key, value=None, ttl=None):
        q = {"op": op, "k": key.hex()}
        if value is not None:
            q["v"] = value.hex()
        if ttl is not None:
            q["ttl"] = str(ttl)
        url = "http://127.0.0.1:%d/kv.php?%s" % (self.http, urllib.parse.urlencode(q))
        return urllib.request.urlopen(url, timeout=10).read().decode()

    def cli(self, *args, password=None):
        cmd = ["redis-cli", "-p", str(self.port)]
        if password:
            cmd += ["--no-auth-warning", "-a", password]
        r = subprocess.run(cmd + list(args), capture_output=True, timeout=10)
        return r.stdout.decode(errors="replace").rstrip("\n")


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def encode(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Client:
    """A minimal RESP2 client that reads replies exactly (no library between us and the bytes)."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return ("ERR", rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self._exact(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise AssertionError("bad reply line %r" % line)

    def call(self, *args):
        self.send(encode(*args))
        return self.reply()

    def closed_by_peer(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


# --------------------------------------------------------------------------------------------


@test
def redis_cli_session(_):
    with RespServer("cli") as s:
        eq(s.cli("PING"), "PONG")
        eq(s.cli("SET", "greeting", "hello"), "OK")
        eq(s.cli("GET", "greeting"), "hello")
        eq(s.cli("APPEND", "greeting", " world"), "11")
        eq(s.cli("GET", "greeting"), "hello world")
        eq(s.cli("SET", "n", "10", "EX", "100"), "OK")
        eq(s.cli("INCRBY", "n", "5"), "15")
        eq(s.cli("TTL", "n"), "100")
        eq(s.cli("MSET", "a", "1", "b", "2"), "OK")
        eq(s.cli("MGET", "a", "b", "zz"), "1\n2")  # nil prints as an empty line
        eq(s.cli("HSET", "h", "f1", "v1", "f2", "v2"), "2")
        eq(s.cli("HGETALL", "h"), "f1\nv1\nf2\nv2")
        eq(s.cli("TYPE", "h"), "hash")
        eq(s.cli("GET", "h"), "WRONGTYPE Operation against a key holding the wrong kind of value")
        eq(s.cli("INCR", "greeting"), "ERR value is not an integer or out of range")
        eq(s.cli("RENAME", "a", "c"), "OK")
        eq(s.cli("EXISTS", "a", "c"), "1")
        eq(s.cli("DBSIZE"), "5")
        eq(s.cli("NOSUCH", "x"), "ERR unknown command 'NOSUCH', with args beginning with: 'x' ")
        eq(s.cli("FLUSHALL"), "OK")
        eq(s.cli("DBSIZE"), "0")
        info = s.cli("INFO", "server")
        check("redis_version:" in info, info)


@test
def values_cross_between_php_and_resp(_):
    with RespServer("interop") as s:
        binary = bytes(range(256)) * 3
        c = Client(s.port)
        eq(c.call("SET", b"from-resp", binary), "OK")
        eq(s.php("get", b"from-resp"), "hex:" + binary.hex())
        eq(s.php("set", b"from\x00php", b"v\x00\xff", ttl=50), "ok")
        eq(c.call("GET", b"from\x00php"), b"v\x00\xff")
        eq(c.call("TTL", b"from\x00php"), 50)
        eq(c.call("INCR", "counter"), 1)
        eq(s.php("incr", b"counter"), "2")
        eq(c.call("GET", "counter"), b"2")
        eq(c.call("SET", "big", b"x" * 300000), "OK")  # chunked in the arena
        eq(s.php("get", b"big"), "hex:" + (b"x" * 300000).hex())
        eq(c.call("HSET", "hash", "f", "v"), 1)
        eq(s.php("get", b"hash"), "NULL")  # a hash is a miss for ephpm_kv_get
        eq(s.php("set", b"hash", b"now string"), "ok")
        eq(c.call("TYPE", "hash"), "string")
        eq(c.call("DEL", "from-resp"), 1)
        eq(s.php("get", b"from-resp"), "NULL")
        c.close()


@test
def pipelining_many_commands_in_one_write(_):
    with RespServer("pipeline") as s:
        c = Client(s.port)
        n = 2000
        batch = b"".join(encode("SET", "k%d" % i, "v%d" % i) for i in range(n))
        batch += b"".join(encode("GET", "k%d" % i) for i in range(n))
        c.send(batch)
        for i in range(n):
            eq(c.reply(), "OK", "SET reply %d" % i)
        for i in range(n):
            eq(c.reply(), b"v%d" % i, "GET reply %d" % i)
        c.send(b"PING\r\nECHO inline\r\n")  # inline commands, as telnet sends them
        eq(c.reply(), "PONG")
        eq(c.reply(), b"inline")
        eq(c.call("QUIT"), "OK")
        check(c.closed_by_peer(), "QUIT did not close the connection")


@test
def bad_input_closes_that_connection_only(_):
    with RespServer("badinput", "max_input_buffer = 65536") as s:
        bystander = Client(s.port)
        eq(bystander.call("SET", "k", "v"), "OK")
        cases = [
            (b"*1\r\n$99999999999\r\n", "ERR Protocol error: invalid bulk length"),
            (b"*1\r\n$70000\r\n", "ERR Protocol error: invalid bulk length"),  # > max_input_buffer
            (b"*99999999\r\n", "ERR Protocol error: invalid multibulk length"),
            (b"*1\r\n:12\r\n", "ERR Protocol error: expected '$', got ':'"),
            (b"*2\r\n$3\r\nGET\r\n$1\r\nkXX", "ERR Protocol error: bulk string not terminated by CRLF"),
        ]
        for frame, err in cases:
            c = Client(s.port)
            c.send(frame)
            eq(c.reply(), ("ERR", err), repr(frame))
            check(c.closed_by_peer(), "connection left open after %r" % frame)
        # A frame that never ends grows up to the limit, then is refused.
        c = Client(s.port)
        try:
            c.send(b"*1\r\n$60000\r\n" + b"a" * 59000)
            c.send(b"*1" + b"1" * 140000)
        except OSError:
            pass
        # A truncated frame followed by a close: nothing to answer, nothing breaks.
        t = Client(s.port)
        t.send(b"*3\r\n$3\r\nSET\r\n$1\r\n")
        t.close()
        eq(bystander.call("GET", "k"), b"v")
        fresh = Client(s.port)
        eq(fresh.call("PING"), "PONG")


@test
def idle_timeout_and_max_connections(_):
    with RespServer("limits", "idle_timeout_secs = 1\nmax_connections = 4") as s:
        idle = Client(s.port)
        eq(idle.call("PING"), "PONG")
        check(idle.closed_by_peer(timeout=10), "an idle connection was not closed")
        conns = [Client(s.port) for _ in range(4)]
        for c in conns:
            eq(c.call("PING"), "PONG")
        extra = Client(s.port)
        eq(extra.reply(), ("ERR", "ERR max number of clients reached"))
        check(extra.closed_by_peer(), "the connection over max_connections stayed open")
        conns[0].close()
        time.sleep(0.2)
        again = Client(s.port)
        eq(again.call("PING"), "PONG")


@test
def auth_required_when_a_password_is_set(_):
    with RespServer("auth", 'password = "s3cret"') as s:
        c = Client(s.port)
        eq(c.call("GET", "k"), ("ERR", "NOAUTH Authentication required."))
        eq(c.call("AUTH", "nope"),
           ("ERR", "WRONGPASS invalid username-password pair or user is disabled."))
        eq(c.call("AUTH", "s3cret"), "OK")
        eq(c.call("SET", "k", "v"), "OK")
        eq(s.cli("GET", "k"), "NOAUTH Authentication required.")
        eq(s.cli("GET", "k", password="s3cret"), "v")
        out = open(s.srv.stdout_path).read()
        check("(AUTH required)" in out, out)


def serve_config_error(name, redis_compat):
    d = os.path.join(WORKDIR, name)
    os.makedirs(os.path.join(d, "public"), exist_ok=True)
    cfg = os.path.join(d, "ephpm.toml")
    with open(cfg, "w") as f:
        f.write('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "public"\n'
                "[kv.redis_compat]\n" + redis_compat)
    r = subprocess.run([BINARY, "serve", "--config", cfg], capture_output=True, timeout=20, cwd=d)
    return r.returncode, r.stderr.decode()


@test
def config_errors_exit_2(_):
    rc, err = serve_config_error("nopass", 'enabled = true\nlisten = "0.0.0.0:0"\n')
    eq(rc, 2, "exit code")
    check("[kv.redis_compat] password: required when listen" in err, err)
    rc, err = serve_config_error("badbuf", "enabled = true\nmax_input_buffer = 10\n")
    eq(rc, 2, "exit code")
    check("[kv.redis_compat] max_input_buffer: value 10 out of range" in err, err)
    rc, err = serve_config_error("badlisten", 'enabled = true\nlisten = "nope"\n')
    eq(rc, 2, "exit code")
    check("[kv.redis_compat] listen: invalid address" in err, err)
    rc, err = serve_config_error("badtype", 'enabled = "yes"\n')
    eq(rc, 2, "exit code")
    check("[kv.redis_compat] enabled: expected true or false" in err, err)


@test
def busy_port_is_a_startup_error(_):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    rc, err = serve_config_error("busy", 'enabled = true\nlisten = "127.0.0.1:%d"\n' % port)
    holder.close()
    eq(rc, 1, "exit code")
    check("[kv.redis_compat] listen:" in err, err)


@test
def no_warning_for_redis_compat_keys_with_one_worker(_):
    with RespServer("single", "max_connections = 10\nidle_timeout_secs = 60\n"
                    "max_input_buffer = 2097152", workers=1) as s:
        c = Client(s.port)
        eq(c.call("SET", "k", "v"), "OK")
        eq(s.php("get", b"k"), "hex:" + b"v".hex())
        err = s.srv.stderr()
        check("redis_compat" not in err, err)


def resp_child(master_pid):
    """The pid of the master's RESP process (named ephpm-resp), or None."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == master_pid and comm == "ephpm-resp":
            return int(entry)
    return None


def wait_for_new_resp_child(s, old_pid):
    deadline = time.time() + 15
    while time.time() < deadline:
        pid = resp_child(s.srv.proc.pid)
        if pid is not None and pid != old_pid:
            return pid
        time.sleep(0.05)
    raise AssertionError("no new RESP process after pid %d died" % old_pid)


@test
def resp_process_is_restarted_when_killed(_):
    mport = free_port()
    with RespServer("restart", extra='[metrics]\nlisten = "127.0.0.1:%d"\n' % mport) as s:
        eq(s.cli("SET", "before", "kept"), "OK")
        eq(s.php("set", b"from-php", b"too"), "ok")
        old = resp_child(s.srv.proc.pid)
        check(old is not None, "no ephpm-resp child of the master")
        os.kill(old, signal.SIGKILL)
        new = wait_for_new_resp_child(s, old)
        # The listening socket stayed open in the master: the client is answered, not refused.
        eq(s.cli("PING"), "PONG")
        eq(s.cli("GET", "before"), "kept", "data written before the crash (shared arena)")
        eq(s.cli("GET", "from-php"), "too")
        check(s.srv.alive(), "serve died")
        metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=10).read().decode()
        check('ephpm_worker_restarts_total{reason="signal"} 1' in metrics, metrics)
        err = s.srv.stderr()
        check("RESP process (pid %d) killed by signal 9 (SIGKILL); restarting now (reason: signal)" % old
              in err, err)
        # A crash loop: dying right after each start backs off instead of forking in a loop.
        for _ in range(3):
            os.kill(new, signal.SIGKILL)
            new = wait_for_new_resp_child(s, new)
        eq(s.cli("PING"), "PONG")
        check("(reason: crash_loop)" in s.srv.stderr(), s.srv.stderr())
        eq(s.cli("GET", "before"), "kept")


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@test
def info_keyspace_counts_keys_with_a_ttl(_):
    with RespServer("expires") as s:
        eq(s.cli("SET", "p", "1"), "OK")
        eq(s.cli("SET", "t1", "1", "EX", "100"), "OK")
        eq(s.cli("SET", "t2", "1", "PX", "100000"), "OK")
        eq(s.php("set", b"t3", b"x", ttl=100), "ok")
        check("db0:keys=4,expires=3,avg_ttl=0" in s.cli("INFO", "keyspace"), s.cli("INFO", "keyspace"))
        eq(s.cli("PERSIST", "t1"), "1")
        eq(s.cli("PEXPIRE", "p", "100000"), "1")
        eq(s.cli("SET", "t2", "plain"), "OK")
        eq(s.cli("DEL", "t3"), "1")
        check("db0:keys=3,expires=1,avg_ttl=0" in s.cli("INFO", "keyspace"), s.cli("INFO", "keyspace"))
        eq(s.cli("PEXPIRE", "p", "1"), "1")
        time.sleep(0.05)
        eq(s.cli("GET", "p"), "")
        check("db0:keys=2,expires=0,avg_ttl=0" in s.cli("INFO", "keyspace"), s.cli("INFO", "keyspace"))


@test
def php_clients_phpredis_predis_symfony(_):
    project = os.environ.get("EPHPM_RESP_PHP_CLIENTS")
    check(project and os.path.isfile(os.path.join(project, "vendor", "autoload.php")),
          "EPHPM_RESP_PHP_CLIENTS must name runtime/tests/resp/php with vendor/ installed")
    with RespServer("phpclients") as s:
        env = dict(os.environ, REDIS_HOST="127.0.0.1", REDIS_PORT=str(s.port),
                   EPHPM_TEST_HTTP_PORT=str(s.http))
        r = subprocess.run(["php", "-d", "zend.assertions=1", "vendor/bin/phpunit"],
                           cwd=project, env=env, capture_output=True, timeout=600)
        out = r.stdout.decode(errors="replace")
        print(out[-6000:])
        eq(r.returncode, 0, "phpunit exit code (stderr: %s)" % r.stderr.decode()[-2000:])


# --------------------------------------------------------------------------------------------
# Fuzz


def valid_frames(rng):
    key = lambda: "k%d" % rng.randrange(50)
    val = lambda: bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
    return [
        encode("SET", key(), val()), encode("GET", key()), encode("SET", key(), val(), "EX", "100"),
        encode("SET", key(), val(), "PX", "5000", "NX", "GET"), encode("INCRBY", key(), "7"),
        encode("MGET", key(), key(), key()), encode("HSET", key(), "f", val(), "g", val()),
        encode("HGETALL", key()), encode("APPEND", key(), val()), encode("EXPIRE", key(), "100"),
        encode("DEL", key(), key()), encode("RENAME", key(), key()), encode("TTL", key()),
        encode("HDEL", key(), "f"), encode("GETDEL", key()), encode("TYPE", key()),
        b"PING\r\n", encode("ECHO", val()), encode("PERSIST", key()), encode("STRLEN", key()),
    ]


def mutate(rng, frame):
    b = bytearray(frame)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(7)
        if op == 0 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1:
            b.insert(rng.randrange(len(b) + 1), rng.choice(b"\r\n*$:+-0123456789"))
        elif op == 2 and b:
            del b[rng.randrange(len(b)):]
        elif op == 3:
            b = bytearray(re.sub(rb"\$\d+", b"$" + str(rng.choice([-3, 0, 999999999, 2**63, 65537])).encode(), bytes(b), count=1))
        elif op == 4:
            b = bytearray(re.sub(rb"\*\d+", b"*" + str(rng.choice([-1, 0, 3, 2**31, 10**7])).encode(), bytes(b), count=1))
        elif op == 5:
            b += bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        else:
            b = b[: len(b) // 2] + b
    return bytes(b)


def random_frame(rng):
    kind = rng.randrange(4)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    if kind == 1:
        return b"*" + str(rng.randrange(-5, 50)).encode() + b"\r\n" + b"$3\r\nGET\r\n" * rng.randrange(3)
    if kind == 2:
        return b" ".join(rng.choice([b"SET", b"GET", b"\x00", b"\"", b"HSET"]) for _ in range(5)) + b"\r\n"
    return mutate(rng, rng.choice(valid_frames(rng)))


def drain(sock):
    sock.settimeout(0.3)
    try:
        while sock.recv(65536):
            pass
    except (socket.timeout, OSError):
        pass


@test
def fuzz_frames_never_break_the_server(_):
    seed = int(os.environ.get("EPHPM_RESP_FUZZ_SEED", "20261205"))
    total = int(os.environ.get("EPHPM_RESP_FUZZ_FRAMES", "20000"))
    print("resp fuzz seed %d (EPHPM_RESP_FUZZ_SEED=%d replays it), %d frames" % (seed, seed, total))
    rng = random.Random(seed)
    with RespServer("fuzz", "max_input_buffer = 65536\nidle_timeout_secs = 5") as s:
        batch = 200
        for start in range(0, total, batch):
            # One connection per 20 frames, frames sent back to back (a mutated pipeline).
            for _ in range(batch // 20):
                data = b"".join(random_frame(rng) if rng.random() < 0.5 else mutate(rng, rng.choice(valid_frames(rng)))
                                for _ in range(20))
                try:
                    sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
                    sock.sendall(data)
                    sock.shutdown(socket.SHUT_WR)
                    drain(sock)
                    sock.close()
                except OSError:
                    pass
            check(s.srv.alive(), "ephpm serve died after frame %d (seed %d)" % (start, seed))
            c = Client(s.port)
            eq(c.call("PING"), "PONG", "PING after frame %d (seed %d)" % (start + batch, seed))
            c.close()
        c = Client(s.port)
        eq(c.call("SET", "after-fuzz", "ok"), "OK")
        eq(s.php("get", b"after-fuzz"), "hex:" + b"ok".hex())


def setup():
    global BINARY, WORKDIR
    BINARY, WORKDIR = SUITE.ctx.binary, SUITE.ctx.workdir


if __name__ == "__main__":
    SUITE.main(setup, private_binary=False)
