#!/usr/bin/env python3
"""End-to-end tests of configuration reload (SIGHUP), `ephpm check` and the access log formats
and reopening (SIGUSR1) of `ephpm serve` (runtime/http/reload.h, runtime/http/access_log.h).

Usage: reload_e2e.py path/to/ephpm [-k substring]

Each test starts its own server (listen port 0, worker processes) on its own document root in a
temporary directory and stops it by pid. Prints `N passed, M failed`; exits non-zero on failure.
"""
import calendar
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402
from e2e import KeepAliveLoad, check, eq, get, request  # noqa: E402
from workers_e2e import children, wait_for  # noqa: E402

SUITE = e2e.Suite()
test, CTX = SUITE.test, SUITE.ctx
_seq = [0]


def site(name, pages):
    """A fresh directory with `pages` ({relative path: text}); returns its path."""
    _seq[0] += 1
    root = os.path.join(CTX.workdir, "%s-%d" % (name, _seq[0]))
    for rel, text in pages.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return root


def config(docroot, workers=2, php="", server="", log="", tail=""):
    return ('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "%s"\n%s'
            '[php]\nmax_execution_time = 10\nworkers = %d\n%s'
            '[kv]\nmemory_limit = "16MB"\n'
            '[log]\nlevel = "info"\n%s%s' % (docroot, server, workers, php, log, tail))


start = SUITE.start


def rewrite(srv, text):
    with open(srv.config + ".tmp", "w") as f:
        f.write(text)
    os.rename(srv.config + ".tmp", srv.config)


def wait_log(srv, pattern, timeout=20, count=1):
    ok = wait_for(lambda: len(re.findall(pattern, srv.stderr())) >= count, timeout)
    check(ok, "no %d x %r in the log:\n%s" % (count, pattern, srv.stderr()[-3000:]))


def running_workers(srv, count=2):
    """The master's `count` workers, once all are forked (the server answers as soon as one serves,
    so a list taken earlier can miss the last one)."""
    check(wait_for(lambda: len(children(srv.proc.pid)) == count, 10),
          "%d workers running: %s" % (count, children(srv.proc.pid)))
    return children(srv.proc.pid)


def wait_rolled(srv, old, workers, timeout=30):
    """Waits until the master has `workers` children, none of them in `old`."""
    def done():
        now = set(children(srv.proc.pid))
        return len(now) == workers and not (now & set(old))
    check(wait_for(done, timeout),
          "workers not replaced: old %s, now %s" % (sorted(old), children(srv.proc.pid)))


def switch_symlink(link, target):
    tmp = link + ".new"
    os.symlink(target, tmp)
    os.rename(tmp, link)  # atomic, as deploy tools do it


def run_check(*args):
    p = subprocess.run([CTX.binary] + list(args), capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


# ------------------------------------------------------------------------------------------------
# SIGHUP
# ------------------------------------------------------------------------------------------------


WORKER_APP = """<?php
$release = file_get_contents(__DIR__ . '/name.txt');  // read once, at the boot
while (ephpm_handle_request(function () use ($release) { echo $release; })) {
}
"""


def switch_release_under_load(mode):
    """A deploy: releases/1 and releases/2, `current` switched from one to the other, SIGHUP."""
    pages = {}
    for n in (1, 2):
        pages["releases/%d/index.php" % n] = "<?php echo 'release %d';" % n
        pages["releases/%d/app.php" % n] = WORKER_APP
        pages["releases/%d/name.txt" % n] = "release %d" % n
    base = site("deploy", pages)
    current = os.path.join(base, "current")
    os.symlink(os.path.join(base, "releases/1"), current)
    php = 'mode = "worker"\nworker_script = "app.php"\n' if mode == "worker" else ""
    # In worker mode a path without a file reaches the booted worker script.
    path = "/no-such-page" if mode == "worker" else "/index.php"
    srv = start("symlink", config(current, php=php))
    try:
        eq(get(srv.port, path).body, b"release 1", "before the deploy")
        old = running_workers(srv)
        with KeepAliveLoad(srv.port, path, conns=6) as load:
            time.sleep(0.5)
            switch_symlink(current, os.path.join(base, "releases/2"))
            if mode == "worker":  # the booted application stays on release 1 until the reload
                time.sleep(1.5)
                eq(get(srv.port, path).body, b"release 1", "switched, before SIGHUP")
            os.kill(srv.proc.pid, signal.SIGHUP)
            wait_rolled(srv, old, 2)
            time.sleep(0.5)
        check(not load.errors, "failed requests during the reload: %s; %s" % (
            load.errors[:3], load.summary()))
        check(len(load.ok) > 50, "too little load: " + load.summary())
        bodies = set(r.body for _, r in load.ok)
        check(bodies <= {b"release 1", b"release 2"}, "unexpected bodies %r" % bodies)
        for _ in range(10):
            eq(get(srv.port, path).body, b"release 2", "after the reload")
        wait_log(srv, r"config reload: .* accepted \(0 change")
        print("    %s: %s" % (mode, load.summary()))
    finally:
        srv.stop()


@test
def reload_switched_release_symlink_under_load(_):
    switch_release_under_load("classic")


@test
def reload_switched_release_symlink_under_load_worker_mode(_):
    # The booted application keeps release 1 until the reload boots it again from release 2.
    switch_release_under_load("worker")


@test
def reload_broken_config_keeps_running(_):
    root = site("broken", {"index.php": "<?php echo 'old config';"})
    good = config(root)
    srv = start("broken", good)
    try:
        old = running_workers(srv)
        broken = good.replace("workers = 2", "workers = \"many\"")
        rewrite(srv, broken)
        code, out, err = run_check("--config", srv.config, "check")
        eq(code, 2, "check of the broken config")
        message = err.strip().split("\n")[-1]
        check(message.startswith("ephpm: "), "check message: %r" % err)
        os.kill(srv.proc.pid, signal.SIGHUP)
        wait_log(srv, r"config reload rejected")
        log = srv.stderr()
        check(message[len("ephpm: "):] in log,
              "the reload error is not start-up's message %r:\n%s" % (message, log[-2000:]))
        check(srv.alive(), "server died")
        eq(get(srv.port, "/index.php").body, b"old config", "still serving")
        eq(sorted(children(srv.proc.pid)), sorted(old), "workers were not restarted")
        # A config whose document root is missing is rejected as start-up would reject it.
        rewrite(srv, config(root + "-gone"))
        os.kill(srv.proc.pid, signal.SIGHUP)
        wait_log(srv, r"config reload rejected", count=2)
        check("-gone" in srv.stderr().split("config reload rejected")[-1], srv.stderr()[-1000:])
        eq(get(srv.port, "/index.php").body, b"old config", "still serving")
        # Fixed again: the reload goes through.
        rewrite(srv, good)
        os.kill(srv.proc.pid, signal.SIGHUP)
        wait_log(srv, r"config reload: .* accepted")
        wait_rolled(srv, old, 2)
        eq(get(srv.port, "/index.php").body, b"old config", "after the good reload")
    finally:
        srv.stop()


@test
def reload_startup_bound_keys_are_reported_and_kept(_):
    root = site("bound", {"index.php": "<?php echo 'bound';"})
    srv = start("bound", config(root))
    try:
        old = running_workers(srv)
        changed = config(root).replace('listen = "127.0.0.1:0"', 'listen = "127.0.0.1:1"')
        changed = changed.replace('memory_limit = "16MB"', 'memory_limit = "32MB"\nshards = 2')
        rewrite(srv, changed)
        os.kill(srv.proc.pid, signal.SIGHUP)
        wait_log(srv, r"config reload: .* accepted")
        log = srv.stderr()
        for key in ("[server] listen", "[kv] memory_limit", "[kv] shards"):
            check("config reload: %s changed, but it is bound at start-up" % key in log,
                  "%s not reported:\n%s" % (key, log[-2000:]))
        wait_rolled(srv, old, 2)
        eq(get(srv.port, "/index.php").body, b"bound", "served on the old port")
    finally:
        srv.stop()


INI_PAGE = """<?php
header('Content-Type: application/json');
echo json_encode(['precision' => ini_get('precision'), 'third' => (string)(1/3),
                  'memory_limit' => ini_get('memory_limit'),
                  'max_execution_time' => ini_get('max_execution_time'),
                  'post_max_size' => ini_get('post_max_size'), 'pid' => getmypid()]);
"""


@test
def reload_ini_workers_and_log_format_take_effect(_):
    root = site("ini", {"ini.php": INI_PAGE})
    access = os.path.join(CTX.workdir, "ini-access-%d.log" % _seq[0])
    before = config(root, workers=2, php='memory_limit = "64M"\n[php.ini]\nprecision = 10\n',
                    log='access_log = "%s"\n' % access)
    srv = start("ini", before)
    try:
        j = get(srv.port, "/ini.php").json()
        eq((j["precision"], j["third"], j["memory_limit"]), ("10", "0.3333333333", "64M"),
           "start-up INI")
        old = running_workers(srv)
        after = config(root, workers=3,
                       php='memory_limit = "96M"\n[php.ini]\nprecision = 5\n',
                       server='[server.request]\nmax_body_size = 2000000\n',
                       log='access_log = "%s"\naccess_log_format = "json"\n' % access)
        rewrite(srv, after)
        os.kill(srv.proc.pid, signal.SIGHUP)
        wait_log(srv, r"config reload: .* accepted")
        wait_rolled(srv, old, 3)
        log = srv.stderr()
        for key in ("[php] memory_limit", "[php.ini] precision", "[php] workers",
                    "[server.request] max_body_size", "[log] access_log_format"):
            check("config reload: %s changed\n" % key in log, "%s not logged" % key)
        pids = set()
        for _ in range(12):
            j = get(srv.port, "/ini.php").json()
            eq((j["precision"], j["third"], j["memory_limit"], j["post_max_size"]),
               ("5", "0.33333", "96M", "2000000"), "reloaded INI")
            pids.add(j["pid"])
        check(pids <= set(children(srv.proc.pid)), "answered by a worker of the master")
        with open(access) as f:
            last = f.read().strip().split("\n")[-1]
        eq(json.loads(last)["uri"], "/ini.php", "the access log is JSON after the reload")
    finally:
        srv.stop()


# ------------------------------------------------------------------------------------------------
# ephpm check
# ------------------------------------------------------------------------------------------------


@test
def check_exit_codes_and_messages(_):
    root = site("check", {"index.php": "<?php echo 1;"})
    path = os.path.join(CTX.workdir, "check.toml")

    def write(text):
        with open(path, "w") as f:
            f.write(text)

    write(config(root))
    for args in (["--config", path, "check"], ["check", "--config", path],
                 ["--config=" + path, "check"]):
        code, out, err = run_check(*args)
        eq((code, out, err), (0, "%s: ok\n" % path, ""), "good config via %s" % args)
    write("[server\nlisten = 1\n")
    code, out, err = run_check("--config", path, "check")
    eq(code, 2, "bad TOML exit code")
    check(re.match(r"ephpm: %s:1:\d+: invalid TOML: " % re.escape(path), err), err)
    eq(out, "", "nothing on stdout")
    write(config(root) + "colour = \"blue\"\n")
    code, out, err = run_check("check", "--config", path)
    eq(code, 2, "unknown key exit code")
    eq(err, "ephpm: %s: [log] colour: unknown key (expected one of: level, access_log, "
            "access_log_format)\n" % path, "unknown key message")
    write(config(root + "-missing"))
    code, out, err = run_check("check", "--config", path)
    eq(code, 2, "missing document root exit code")
    check(root + "-missing" in err and err.startswith("ephpm: "), err)
    write(config(root, php='mode = "worker"\nworker_script = "nope.php"\n'))
    code, out, err = run_check("check", "--config", path)
    eq(code, 2, "missing worker script exit code")
    check("[php] worker_script" in err and "nope.php" in err, err)
    # `serve` refuses the same config with the same message.
    p = subprocess.run([CTX.binary, "serve", "--config", path], capture_output=True, text=True,
                       timeout=30)
    eq((p.returncode, p.stderr.strip().split("\n")[-1]), (2, err.strip().split("\n")[-1]),
       "serve and check agree")
    code, out, err = run_check("check", "--config", path + ".absent")
    eq(code, 2, "absent explicit config")
    check("check.toml.absent" in err, err)


# ------------------------------------------------------------------------------------------------
# Access log
# ------------------------------------------------------------------------------------------------

# nginx's combined: $remote_addr - $remote_user [$time_local] "$request" $status
# $body_bytes_sent "$http_referer" "$http_user_agent"
COMBINED = re.compile(r'^(\S+) - (\S+) \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] '
                      r'"([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)"$')


def served_lines(path, n, timeout=10):
    check(wait_for(lambda: os.path.exists(path) and
                   len(open(path).read().strip().split("\n")) >= n, timeout),
          "fewer than %d lines in %s" % (n, path))
    with open(path) as f:
        return f.read().strip().split("\n")


def make_requests(port):
    """The requests the format tests check against, with what each line must say."""
    get(port, "/page.php?x=1", headers={"Referer": "http://ref.example/a",
                                        "User-Agent": "reload-e2e/1.0"})
    request(port, "POST", "/static.txt", headers={"User-Agent": 'agent "quoted"'}, body="x")
    get(port, "/missing.html", version="1.0")
    return [("GET", "/page.php?x=1", "HTTP/1.1", 200, 5, "http://ref.example/a", "reload-e2e/1.0"),
            ("POST", "/static.txt", "HTTP/1.1", 405, None, "", 'agent "quoted"'),
            ("GET", "/missing.html", "HTTP/1.0", 404, None, "", "")]


def format_site():
    return site("fmt", {"page.php": "<?php echo 'hello';", "static.txt": "static\n"})


@test
def access_log_combined(_):
    access = os.path.join(CTX.workdir, "combined-%d.log" % _seq[0])
    srv = start("combined", config(format_site(),
                                   log='access_log = "%s"\naccess_log_format = "combined"\n'
                                   % access))
    try:
        want = make_requests(srv.port)
        lines = served_lines(access, 3)
        eq(len(lines), 3, "one line per request")
        # Each worker writes its line once the response is out, so two workers' lines may swap.
        lines.sort(key=lambda l: [w[1] in l for w in want].index(True))
        for line, (method, uri, proto, status, size, ref, ua) in zip(lines, want):
            m = COMBINED.match(line)
            check(m, "not nginx's combined format: %r" % line)
            eq(m.group(1), "127.0.0.1", "remote_addr")
            eq(m.group(2), "-", "remote_user")
            eq(m.group(4), "%s %s %s" % (method, uri, proto), "request line")
            eq(int(m.group(5)), status, "status")
            if size is not None:
                eq(int(m.group(6)), size, "body bytes")
            eq(m.group(7), ref or "-", "referer")
            eq(m.group(8), (ua or "-").replace('"', "\\x22"), "user agent")
            when = time.strptime(m.group(3), "%d/%b/%Y:%H:%M:%S %z")
            check(abs(time.mktime(when) - time.time()) < 3600 * 26, "time %r" % m.group(3))
    finally:
        srv.stop()


@test
def access_log_json(_):
    access = os.path.join(CTX.workdir, "json-%d.log" % _seq[0])
    srv = start("json", config(format_site(),
                               log='access_log = "%s"\naccess_log_format = "json"\n' % access))
    try:
        t0 = time.time()
        want = make_requests(srv.port)
        lines = served_lines(access, 3)
        eq(len(lines), 3, "one line per request")
        lines.sort(key=lambda l: [w[1] in json.loads(l)["uri"] for w in want].index(True))
        for line, (method, uri, proto, status, size, ref, ua) in zip(lines, want):
            o = json.loads(line)
            eq(sorted(o), sorted(["time", "remote_addr", "method", "uri", "protocol", "status",
                                  "bytes", "duration_us", "referer", "user_agent", "host"]),
               "fields")
            eq((o["remote_addr"], o["method"], o["uri"], o["protocol"], o["status"],
                o["referer"], o["user_agent"], o["host"]),
               ("127.0.0.1", method, uri, proto, status, ref, ua, "localhost"), "values")
            if size is not None:
                eq(o["bytes"], size, "bytes")
            check(isinstance(o["duration_us"], int) and 0 <= o["duration_us"] < 10_000_000,
                  "duration_us %r" % o["duration_us"])
            m = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.\d{3}Z$", o["time"])
            check(m, "time %r" % o["time"])
            when = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
            check(t0 - 2 <= when <= time.time() + 1, "time %r not now" % o["time"])
    finally:
        srv.stop()


def reopen_after_rename(workers):
    access = os.path.join(CTX.workdir, "rotate-%d-%d.log" % (workers, _seq[0]))
    srv = start("rotate", config(format_site(), workers=workers,
                                 log='access_log = "%s"\n' % access).replace(
                                     'level = "info"', 'level = "debug"'))
    try:
        for i in range(6):
            get(srv.port, "/page.php?before=%d" % i)
        served_lines(access, 6)
        os.rename(access, access + ".1")
        os.kill(srv.proc.pid, signal.SIGUSR1)
        wait_log(srv, r"received User defined signal 1: access log reopened", count=workers)
        for i in range(6):
            get(srv.port, "/page.php?after=%d" % i)
        fresh = served_lines(access, 6)
        with open(access + ".1") as f:
            rotated = f.read()
        eq(len(fresh), 6, "lines in the new file")
        check(all("after=" in l for l in fresh), "new file: %r" % fresh)
        eq(rotated.count("before="), 6, "the rotated file keeps its lines")
        check("after=" not in rotated, "nothing new in the rotated file")
        check(srv.alive(), "server alive")
    finally:
        srv.stop()


@test
def access_log_reopened_on_sigusr1_by_every_worker(_):
    reopen_after_rename(workers=2)


@test
def access_log_reopened_on_sigusr1_single_process(_):
    reopen_after_rename(workers=1)


if __name__ == "__main__":
    SUITE.main()
