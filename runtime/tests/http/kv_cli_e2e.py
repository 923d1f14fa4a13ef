#!/usr/bin/env python3
"""`ephpm kv` against a live `ephpm serve` (runtime/cli/kv_command.h).

Usage: kv_cli_e2e.py path/to/ephpm [-k substring]

Starts one `ephpm serve` with workers = 2 on a temporary document root holding kvpage.php (a page
that reads and writes keys), then drives the store from both sides: `ephpm --config FILE kv ...`
writes and a page reads, a page writes and the CLI reads; ttl, del, stats (text and --json),
flush, scan, binary values, argument errors. Tests that need their own server (none running, one
killed, another version's store) start and stop it themselves. Every process is stopped by pid.
Prints `N passed, M failed` and exits non-zero on failure.
"""
import json
import os
import pty
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402
from e2e import Server, check, eq, request  # noqa: E402

KVPAGE = r"""<?php
// op=get|set|ttl|mset|pid; k = key, v = value (or the request body for set), ttl in seconds.
header('Content-Type: application/octet-stream');
header('X-Worker-Pid: ' . getmypid());
$k = $_GET['k'] ?? '';
if (isset($_GET['sleep_ms'])) usleep((int)$_GET['sleep_ms'] * 1000);
switch ($_GET['op'] ?? '') {
    case 'get':
        $v = ephpm_kv_get($k);
        if ($v === null) { http_response_code(404); echo 'MISSING'; } else { echo $v; }
        break;
    case 'set':
        $v = $_GET['v'] ?? file_get_contents('php://input');
        echo ephpm_kv_set($k, $v, (int)($_GET['ttl'] ?? 0)) ? 'OK' : 'REFUSED';
        break;
    case 'ttl':
        echo ephpm_kv_ttl($k);
        break;
    case 'mset':
        echo ephpm_kv_mset(json_decode(file_get_contents('php://input'), true)) ? 'OK' : 'REFUSED';
        break;
}
"""

SUITE = e2e.Suite()
test, CTX = SUITE.test, SUITE.ctx


def config_text(docroot, workers=2):
    return ('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "%s"\n'
            '[php]\nworkers = %d\nmax_execution_time = 10\n'
            '[kv]\nmemory_limit = "16MB"\nshards = 16\n[log]\nlevel = "warn"\n' % (docroot, workers))


def kv(*args, config=None, stdin=b"", cwd=None):
    """Runs `ephpm --config CONFIG kv ARGS...` (no --config when config is False); returns (exit
    code, stdout bytes, stderr text)."""
    cmd = [CTX.binary] + ([] if config is False else ["--config", config or CTX.srv.config])
    cmd += ["kv"] + list(args)
    env = {k: v for k, v in os.environ.items() if k != "EPHPM_CONFIG"}
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                       cwd=cwd, env=env)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def kv_ok(*args, **kw):
    rc, out, err = kv(*args, **kw)
    eq(rc, 0, "exit code of kv %s (stderr %r)" % (" ".join(map(str, args)), err))
    return out


def page(op, key="", body=None, **params):
    query = urllib.parse.urlencode(dict(op=op, k=key, **params))
    method = "GET" if body is None else "POST"
    return request(CTX.srv.port, method, "/kvpage.php?" + query, body=body)


def page_get(key):
    r = page("get", key)
    return r.body if r.status == 200 else None


def stats_json():
    return json.loads(kv_ok("stats", "--json"))


# ------------------------------------------------------------------------------------------------
# Against the shared server
# ------------------------------------------------------------------------------------------------


@test
def cli_set_is_read_by_pages_on_both_workers(_):
    eq(kv_ok("set", "greeting", "hello from the shell"), b"OK\n", "set output")
    # A slow request occupies one worker, so the second is answered by the other one. A forked
    # worker accepts a few milliseconds after it exists: a round in which one worker took both
    # connections is repeated, not failed.
    rounds = []
    for _ in range(5):
        slow = {}
        t = threading.Thread(target=lambda: slow.update(r=page("get", "greeting", sleep_ms=1000)))
        t.start()
        time.sleep(0.3)
        fast = page("get", "greeting")
        t.join()
        for r in (slow["r"], fast):
            eq(r.status, 200, "status")
            eq(r.body, b"hello from the shell", "value read by the page")
        rounds.append((slow["r"].header("x-worker-pid"), fast.header("x-worker-pid")))
        if rounds[-1][0] != rounds[-1][1]:
            break
    check(rounds[-1][0] != rounds[-1][1], "every read came from one worker: %r" % rounds)


@test
def page_set_is_read_by_cli(_):
    eq(page("set", "from-php", v="written by PHP").body, b"OK", "page set")
    # stdout is a pipe: the raw bytes, no newline added.
    eq(kv_ok("get", "from-php"), b"written by PHP", "kv get")


@test
def get_missing_key_exits_3(_):
    rc, out, err = kv("get", "no-such-key")
    eq(rc, 3, "exit code")
    eq(out, b"", "stdout")
    eq(err, "ephpm kv get: no such key: no-such-key\n", "stderr")


@test
def ttl_both_ways(_):
    kv_ok("set", "t-cli", "v", "--ttl", "100")
    left = int(page("ttl", "t-cli").body)
    check(0 < left <= 100, "page sees ttl %d" % left)
    eq(page("set", "t-php", v="v", ttl=50).body, b"OK", "page set with ttl")
    left = int(kv_ok("ttl", "t-php"))
    check(0 < left <= 50, "cli sees ttl %d" % left)
    kv_ok("set", "t-persistent", "v")
    eq(kv_ok("ttl", "t-persistent"), b"-1\n", "persistent")
    eq(kv_ok("ttl", "t-missing"), b"-2\n", "missing")
    # A new set without --ttl clears the TTL, as ephpm_kv_set does.
    kv_ok("set", "t-cli", "v2")
    eq(page("ttl", "t-cli").body, b"-1", "ttl cleared")


@test
def ttl_expiry_seen_by_page(_):
    kv_ok("set", "short-lived", "v", "--ttl", "1")
    eq(page_get("short-lived"), b"v", "before expiry")
    time.sleep(1.3)
    eq(page_get("short-lived"), None, "after expiry")
    eq(kv_ok("ttl", "short-lived"), b"-2\n", "ttl after expiry")


@test
def del_both_ways(_):
    kv_ok("set", "doomed", "v")
    eq(kv_ok("del", "doomed"), b"1\n", "first del")
    eq(kv_ok("del", "doomed"), b"0\n", "second del")
    eq(page_get("doomed"), None, "page after del")


@test
def stats_counters_rise_text_and_json(_):
    before = stats_json()
    eq(list(before), ["store", "server", "keys", "used_memory", "memory_limit", "hits", "misses",
                      "evictions", "expired", "discarded_shards", "watch_slots", "eviction_policy",
                      "shards"], "stats --json fields")
    eq(before["memory_limit"], 16 << 20, "memory_limit")
    eq(before["shards"], 16, "shards")
    eq(before["eviction_policy"], "allkeys-lru", "policy")
    check(before["store"].startswith("/ephpm-%d-" % os.geteuid()), "store name %r" % before["store"])
    eq(before["server"], "the ephpm serve for " + CTX.srv.config, "server")
    kv_ok("set", "stats-key", "v")
    for _ in range(3):
        eq(page_get("stats-key"), b"v", "page hit")
    for _ in range(2):
        eq(page_get("stats-absent"), None, "page miss")
    kv_ok("get", "stats-key")
    after = stats_json()
    check(after["hits"] >= before["hits"] + 4, "hits %d -> %d" % (before["hits"], after["hits"]))
    check(after["misses"] >= before["misses"] + 2,
          "misses %d -> %d" % (before["misses"], after["misses"]))
    check(after["used_memory"] > 0, "used_memory %d" % after["used_memory"])
    text = kv_ok("stats").decode()
    rows = dict(re.split(r"\s+", line, maxsplit=1) for line in text.splitlines())
    eq(rows["store"], "%s (the ephpm serve for %s)" % (after["store"], CTX.srv.config), "store row")
    eq(rows["keys"], str(stats_json()["keys"]), "keys row")
    check(rows["memory_limit"].startswith("16777216 bytes (16.0 MB)"), rows["memory_limit"])
    check(re.fullmatch(r"\d+\.\d %", rows["hit_rate"]), "hit_rate row %r" % rows["hit_rate"])
    eq(rows["eviction_policy"], "allkeys-lru", "policy row")


@test
def scan_lists_matching_keys(_):
    keys = {"scan:user:%d:name" % i: "n%d" % i for i in range(60)}
    keys.update({"scan:user:%d:mail" % i: "m%d" % i for i in range(60)})
    keys.update({"scan:other:%d" % i: "o" for i in range(30)})
    eq(page("mset", body=json.dumps(keys)).body, b"OK", "page mset")
    wanted = sorted(k for k in keys if k.endswith(":name"))
    for count in ("1", "10", "1000"):
        rc, out, err = kv("scan", "--match", "scan:user:*:name", "--count", count)
        eq(rc, 0, "exit code (stderr %r)" % err)
        eq(sorted(out.decode().splitlines()), wanted, "keys at count " + count)
        check("60 keys matching scan:user:*:name. Every key present during the whole scan is "
              "listed once" in err, "summary %r" % err)
    out = kv_ok("scan", "--match", "scan:user:[12]:*")
    eq(sorted(out.decode().splitlines()),
       ["scan:user:1:mail", "scan:user:1:name", "scan:user:2:mail", "scan:user:2:name"], "class")
    rc, out, err = kv("scan", "--match", "scan:*", "--limit", "5")
    eq(rc, 0, "exit code")
    eq(len(out.splitlines()), 5, "--limit 5")
    check("Stopped at --limit." in err, "limit summary %r" % err)
    # Keys with a newline need --print0.
    kv_ok("set", "scan:odd\nkey", "v")
    out = kv_ok("scan", "--match", "scan:odd*", "--print0")
    eq(out, b"scan:odd\nkey\0", "print0")


@test
def binary_values_round_trip(_):
    value = bytes(range(256)) * 64 + b"\0\r\n"  # 16 KB: chunked in the store, NULs, no newline end
    eq(kv_ok("set", "bin-cli", "--stdin", stdin=value), b"OK\n", "set --stdin")
    eq(page_get("bin-cli"), value, "page reads the CLI's bytes")
    other = b"\xff\xfe\x00PHP\x00\n" * 1000
    eq(page("set", "bin-php", body=other).body, b"OK", "page set from the body")
    eq(kv_ok("get", "bin-php"), other, "kv get writes the page's bytes unchanged")
    eq(kv_ok("set", "empty", "--stdin", stdin=b""), b"OK\n", "empty value")
    eq(page_get("empty"), b"", "empty value read by the page")
    eq(kv_ok("get", "empty"), b"", "empty value read by the CLI")


def kv_on_terminal(*args):
    """Runs `ephpm kv ARGS...` with stdout on a pseudo-terminal; returns (exit code, output)."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([CTX.binary, "--config", CTX.srv.config, "kv"] + list(args),
                             stdout=slave, stderr=subprocess.DEVNULL)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        return p.wait(30), out
    finally:
        os.close(master)


@test
def terminal_output_escapes_control_bytes(_):
    eq(kv_ok("set", "ctl", "--stdin", stdin=b"red\x1b[31m\ttab\nline2\x00"), b"OK\n", "set")
    rc, out = kv_on_terminal("get", "ctl")
    eq(rc, 0, "exit code")
    # The terminal turns \n into \r\n; ESC and NUL are shown, never sent.
    eq(out, b"red\\x1b[31m\ttab\r\nline2\\x00\r\n", "get on a terminal")
    kv_ok("set", "ctl\x1bkey", "v")
    rc, out = kv_on_terminal("scan", "--match", "ctl*")
    eq(rc, 0, "exit code")
    eq(sorted(out.split(b"\r\n")), [b"", b"ctl", b"ctl\\x1bkey"], "scan on a terminal")


@test
def flush_needs_yes(_):
    kv_ok("set", "survivor", "v")
    rc, out, err = kv("flush")
    eq(rc, 2, "exit code without --yes")
    check("run again with --yes" in err and CTX.srv.config in err, "stderr %r" % err)
    eq(page_get("survivor"), b"v", "still there")
    keys = stats_json()["keys"]
    eq(kv_ok("flush", "--yes"), ("flushed %d keys\n" % keys).encode(), "flush output")
    eq(page_get("survivor"), None, "gone for the page")
    eq(stats_json()["keys"], 0, "keys after flush")


@test
def argument_errors_exit_2(_):
    for args in (["frobnicate"], [], ["get"], ["set", "k"], ["set", "k", "v", "--stdin"],
                 ["set", "k", "v", "--ttl", "-1"], ["set", "k", "v", "--ttl", "soon"],
                 ["scan", "--count", "0"], ["get", "k" * 65536], ["stats", "--yaml"]):
        rc, out, err = kv(*args)
        eq(rc, 2, "exit code of kv %s (stderr %r)" % (" ".join(args)[:40], err[:200]))
        eq(out, b"", "stdout of kv %s" % " ".join(args)[:40])
        check(err.strip(), "an explanation on stderr for kv %s" % " ".join(args)[:40])


# ------------------------------------------------------------------------------------------------
# Without a usable server
# ------------------------------------------------------------------------------------------------


def no_server_message(config, state):
    return re.compile(r"ephpm kv: no ephpm serve is running for %s \(store (/ephpm-%d-[0-9a-f]{16}): "
                      r"%s\)\n\Z" % (re.escape(config), os.geteuid(), re.escape(state)))


@test
def no_server_running_exits_1(_):
    config = os.path.join(CTX.workdir, "idle.toml")
    with open(config, "w") as f:
        f.write(config_text(CTX.docroot))
    for args in (["get", "k"], ["set", "k", "v"], ["stats"], ["scan"]):
        rc, out, err = kv(*args, config=config)
        eq(rc, 1, "exit code of kv %s" % args[0])
        eq(out, b"", "stdout")
        check(no_server_message(config, "not found").match(err), "stderr %r" % err)
    # A missing config file named explicitly is a config error (2), as for serve.
    rc, _, err = kv("stats", config=os.path.join(CTX.workdir, "absent.toml"))
    eq(rc, 2, "exit code for a missing config file")
    check("absent.toml" in err, "stderr %r" % err)


def worker_pids(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
                out.append(int(d))
    return out


@test
def killed_server_is_reported_exits_1(_):
    srv = Server(CTX.binary, CTX.workdir, config_text(CTX.docroot), "killed")
    srv.start()
    shm = None
    try:
        kv_ok("set", "k", "v", config=srv.config)
        workers = worker_pids(srv.proc.pid)
        eq(len(workers), 2, "workers")
        os.kill(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait()
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        rc, out, err = kv("get", "k", config=srv.config)
        eq(rc, 1, "exit code")
        m = no_server_message(srv.config, "left by a server that is no longer running").match(err)
        check(m, "stderr %r" % err)
        shm = "/dev/shm" + m.group(1)
    finally:
        srv.stop(signal.SIGKILL)
        if shm and os.path.exists(shm):
            os.unlink(shm)


@test
def another_versions_store_is_refused_exits_1(_):
    srv = Server(CTX.binary, CTX.workdir, config_text(CTX.docroot), "version")
    srv.start()
    try:
        store = json.loads(kv_ok("stats", "--json", config=srv.config))["store"]
        path = "/dev/shm" + store
        with open(path, "r+b") as f:  # ArenaHeader: u64 magic, then u32 layout_version
            f.seek(8)
            original = f.read(4)
            f.seek(8)
            f.write((999).to_bytes(4, "little"))
        try:
            rc, out, err = kv("stats", config=srv.config)
        finally:
            with open(path, "r+b") as f:
                f.seek(8)
                f.write(original)
        eq(rc, 1, "exit code")
        want = ("ephpm kv: cannot attach to the store of the ephpm serve for %s: store %s has "
                "layout version 999, this ephpm build expects %d; use the server's own ephpm "
                "binary\n" % (srv.config, store, int.from_bytes(original, "little")))
        eq(err, want, "stderr")
        eq(kv_ok("ttl", "x", config=srv.config), b"-2\n", "attaches again once restored")
    finally:
        eq(srv.stop(), 0, "server exit code")


@test
def get_of_a_resp_hash_exits_4(_):
    cfg = config_text(CTX.docroot) + '[kv.redis_compat]\nenabled = true\nlisten = "127.0.0.1:0"\n'
    srv = Server(CTX.binary, CTX.workdir, cfg, "hash")
    srv.start()
    try:
        m = re.search(r"redis_compat listening on 127\.0\.0\.1:(\d+)", read_text(srv.stdout_path))
        check(m, "no redis_compat line")
        sock = socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=10)
        sock.sendall(b"*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n")
        eq(sock.recv(100), b":1\r\n", "HSET reply")
        sock.close()
        rc, out, err = kv("get", "h", config=srv.config)
        eq(rc, 4, "exit code")
        eq(out, b"", "stdout (the hash's encoded bytes must not be printed)")
        eq(err, "ephpm kv get: WRONGTYPE Operation against a key holding the wrong kind of value: "
                "h is a hash (written over RESP)\n", "stderr")
        eq(kv("get", "nothing", config=srv.config)[0], 3, "a missing key still exits 3")
    finally:
        eq(srv.stop(), 0, "server exit code")


def read_text(path):
    with open(path) as f:
        return f.read()


@test
def server_without_config_is_reached_with_listen(_):
    # Such a server's store is named after its listen address: a random loopback address keeps
    # this one apart from any other config-less server on the machine.
    listen = "127.%d.%d.%d:0" % tuple(random.randint(1, 254) for _ in range(3))
    cwd = tempfile.mkdtemp(dir=CTX.workdir)  # no ephpm.toml here
    out_path = os.path.join(cwd, "serve.out")
    with open(out_path, "w") as out, open(os.path.join(cwd, "serve.err"), "w") as err:
        proc = subprocess.Popen([CTX.binary, "serve", "--listen", listen, "--document-root",
                                 CTX.docroot], stdout=out, stderr=err, cwd=cwd,
                                env={k: v for k, v in os.environ.items() if k != "EPHPM_CONFIG"})
    try:
        deadline = time.time() + 20
        while "listening on" not in read_text(out_path):
            check(proc.poll() is None and time.time() < deadline, "serve did not start")
            time.sleep(0.05)
        eq(kv("--listen", listen, "set", "k", "config-less", config=False, cwd=cwd)[0], 0, "set")
        eq(kv("--listen", listen, "get", "k", config=False, cwd=cwd)[1], b"config-less", "get")
        server = json.loads(kv("--listen", listen, "stats", "--json", config=False, cwd=cwd)[1])
        check(server["server"].startswith("the ephpm serve without a config file listening on %s ("
                                          % listen), "server %r" % server["server"])
        rc, _, err = kv("--listen", "127.0.0.1:1", "get", "k", config=False, cwd=cwd)
        eq(rc, 1, "another listen address names another store")
        check(err.startswith("ephpm kv: no ephpm serve is running for listen address 127.0.0.1:1 "),
              "stderr %r" % err)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            eq(proc.wait(30), 0, "serve exit code")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


# ------------------------------------------------------------------------------------------------


def setup():
    CTX.docroot = os.path.join(CTX.workdir, "public")
    os.makedirs(CTX.docroot)
    with open(os.path.join(CTX.docroot, "kvpage.php"), "w") as f:
        f.write(KVPAGE)
    CTX.srv = Server(CTX.binary, CTX.workdir, config_text(CTX.docroot), "main")
    return CTX.srv


if __name__ == "__main__":
    SUITE.main(setup, private_binary=False)
