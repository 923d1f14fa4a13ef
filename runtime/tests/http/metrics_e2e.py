#!/usr/bin/env python3
"""End-to-end tests of `[metrics] listen`: Prometheus metrics, health and readiness.

Usage: metrics_e2e.py path/to/ephpm [-k substring]

Each test starts its own `ephpm serve` (listen port 0, the metrics listener on a free port) on a
copy of runtime/tests/http/fixtures/public. The Prometheus test starts a real Prometheus server
(Debian's `prometheus`) on 127.0.0.1 with its own storage directory and a 1 s scrape interval,
and reads the counters back through Prometheus's HTTP API. Every process is stopped by pid.
Prints `N passed, M failed` and exits non-zero on failure.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402  (the raw HTTP client, the Server wrapper, the test runner)
from e2e import check, eq, get, request  # noqa: E402
from workers_e2e import children, wait_for, wjson  # noqa: E402

SUITE = e2e.Suite()
test, CTX = SUITE.test, SUITE.ctx


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(workers=2, metrics_port=None, extra_php="", docroot=None):
    text = ('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "%s"\n'
            '[php]\nmax_execution_time = 10\nworkers = %d\n%s'
            '[kv]\nmemory_limit = "16MB"\n[log]\nlevel = "info"\n'
            % (docroot or CTX.docroot, workers, extra_php))
    if metrics_port is not None:
        text += '[metrics]\nlisten = "127.0.0.1:%d"\n' % metrics_port
    return text


def start(name, **kw):
    port = free_port()
    srv = SUITE.start(name, config(metrics_port=port, **kw))
    srv.metrics_port = port
    return srv


def scrape(srv, path="/metrics"):
    return get(srv.metrics_port, path, timeout=10)


def parse_metrics(text):
    """{'name{labels}': value} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def metric(srv, key):
    return parse_metrics(scrape(srv).body.decode()).get(key)


PHP_2XX = 'ephpm_http_requests_total{code="2xx",route="php"}'
HITS = "ephpm_kv_hits_total"
RESTARTS_SIGNAL = 'ephpm_worker_restarts_total{reason="signal"}'


def listening_ports(pid):
    """TCP ports on which process `pid` has a listening socket (from /proc)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            m = re.match(r"socket:\[(\d+)\]", os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            continue
        if m:
            inodes.add(m.group(1))
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


class Prometheus:
    """A real Prometheus server scraping `target` every second, on loopback, stopped by pid."""

    def __init__(self, workdir, target):
        self.dir = tempfile.mkdtemp(prefix="prometheus-", dir=workdir)
        self.port = free_port()
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: ephpm\n    static_configs:\n"
                    "      - targets: ['%s']\n" % target)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + self.config, "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=self.log, stderr=self.log, cwd=self.dir)

    def query(self, expr):
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (self.port, urllib.parse.urlencode({"query": expr}))
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                data = json.load(r)
        except OSError:
            return None
        result = data.get("data", {}).get("result", [])
        return float(result[0]["value"][1]) if result else None

    def wait_value(self, expr, want, timeout=30):
        got = wait_for(lambda: self.query(expr) == want, timeout, 0.25)
        return got, self.query(expr)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# ------------------------------------------------------------------------------------------------


@test
def prometheus_scrapes_request_and_store_hit_counters(p):
    srv = start("prom")
    prom = Prometheus(CTX.workdir, "127.0.0.1:%d" % srv.metrics_port)
    try:
        check(prom.wait_value('up{job="ephpm"}', 1.0, 60)[0], "Prometheus scrapes ephpm (up == 1)")
        wjson(srv.port, "set=metrics-key&value=v")
        check(wait_for(lambda: metric(srv, PHP_2XX) == 1.0, 5), "the first request counted")
        before = parse_metrics(scrape(srv).body.decode())
        n = 40
        for _ in range(n):
            eq(wjson(srv.port, "get=metrics-key")["v"], "v", "a store hit through PHP")
        want_requests = before[PHP_2XX] + n
        want_hits = before[HITS] + n
        ok, got = prom.wait_value("sum(%s)" % PHP_2XX, want_requests)
        check(ok, "Prometheus sees %d PHP 2xx requests, has %r" % (want_requests, got))
        ok, got = prom.wait_value(HITS, want_hits)
        check(ok, "Prometheus sees %d store hits, has %r" % (want_hits, got))
        ok, got = prom.wait_value('sum(ephpm_workers{state=~"busy|idle"})', 2.0)
        check(ok, "two workers accepting, Prometheus has %r" % got)
        hist = prom.query('ephpm_http_request_duration_seconds_count{route="php"}')
        check(hist is not None and hist >= want_requests, "the histogram counts every PHP request: %r" % hist)
    finally:
        prom.stop()
        eq(srv.stop(), 0, "exit code")


@test
def promtool_check_metrics_is_clean(p):
    srv = start("promtool")
    try:
        get(srv.port, "/hello.php")
        get(srv.port, "/a.txt")
        get(srv.port, "/.git/config")  # 403, answered by the server itself
        # A request is counted once its response is written, a moment after the client has it.
        check(wait_for(lambda: metric(srv, 'ephpm_http_requests_total{code="4xx",route="other"}') == 1.0, 5),
              "the 403 counted")
        r = scrape(srv)
        eq(r.status, 200, "/metrics status")
        check(r.header("Content-Type").startswith("text/plain; version=0.0.4"), "exposition content type")
        out = subprocess.run(["promtool", "check", "metrics"], input=r.body, capture_output=True, timeout=30)
        eq((out.returncode, out.stdout + out.stderr), (0, b""), "promtool check metrics")
        m = parse_metrics(r.body.decode())
        eq(m['ephpm_http_requests_total{code="2xx",route="static"}'], 1.0, "static 2xx")
        eq(m['ephpm_http_requests_total{code="4xx",route="other"}'], 1.0, "403 by the server")
        check(m["ephpm_kv_memory_limit_bytes"] == 16 << 20, "store limit")
        check(m["process_resident_memory_bytes"] > 0, "master RSS")
        check(m['ephpm_worker_resident_memory_bytes{worker="0"}'] > 0, "worker RSS")
        check(m['ephpm_php_memory_peak_bytes{worker="0"}'] > 0 or
              m['ephpm_php_memory_peak_bytes{worker="1"}'] > 0, "PHP memory published")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def health_and_ready_json(p):
    srv = start("health")
    try:
        r = scrape(srv, "/_ephpm/health")
        eq(r.status, 200, "health status")
        h = r.json()
        eq((h["status"], h["pid"]), ("ok", srv.proc.pid), "health body")
        check(wait_for(lambda: scrape(srv, "/_ephpm/ready").json()["workers"]["accepting"] == 2, 10),
              "both workers accept")
        d = scrape(srv, "/_ephpm/ready").json()
        eq((d["ready"], d["workers"]["configured"], d["queue_depth"]), (True, 2, 0), "ready body")
        eq(scrape(srv, "/nope").status, 404, "unknown path")
        eq(request(srv.metrics_port, "POST", "/metrics", body=b"x").status, 405, "POST")
        # On the public port the front controller (index.php) answers these paths like any other.
        check(b'"status":"ok"' not in get(srv.port, "/_ephpm/health").body, "not on the public listener")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def ready_false_until_the_worker_script_boots(p):
    # Worker mode: the workers accept (and answer 503) while the script fails to boot; readiness
    # says no until one has booted.
    docroot = os.path.join(CTX.workdir, "boot-docroot")
    os.makedirs(docroot, exist_ok=True)
    flag = os.path.join(CTX.workdir, "boot-ok")
    with open(os.path.join(docroot, "app.php"), "w") as f:
        f.write("<?php\nif (!file_exists(%r)) { throw new RuntimeException('not yet'); }\n"
                "while (ephpm_handle_request(function () { echo \"booted\\n\"; })) {}\n" % flag)
    srv = start("boot", docroot=docroot, workers=1,
                extra_php='mode = "worker"\nworker_script = "app.php"\nmax_requests = 1000\n')
    try:
        eq(get(srv.port, "/").status, 503, "the workers answer 503 while the script fails to boot")
        r = scrape(srv, "/_ephpm/ready")
        eq(r.status, 503, "not ready")
        check("booted" in r.json()["reason"], "reason: %r" % r.json())
        eq(metric(srv, "ephpm_ready"), 0.0, "ephpm_ready gauge")
        open(flag, "w").close()
        check(wait_for(lambda: scrape(srv, "/_ephpm/ready").status == 200, 15), "ready once booted")
        eq(get(srv.port, "/").body, b"booted\n", "served by the booted script")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def ready_false_while_no_worker_is_up(p):
    # Kill the only worker again and again: the crash-loop back-off leaves the slot empty for a
    # while (0.25 s, 0.5 s, 1 s, ...); readiness must say no then, and yes when it is back.
    srv = start("down", workers=1, extra_php="max_requests = 1000\n")
    try:
        master = srv.proc.pid
        seen_not_ready = False
        for _ in range(7):
            pids = wait_for(lambda: children(master), 15, 0.005)
            check(pids, "a worker is running")
            wait_for(lambda: scrape(srv, "/_ephpm/ready").status == 200, 5, 0.01)
            os.kill(pids[0], signal.SIGKILL)
            deadline = time.time() + 0.2
            while time.time() < deadline and not seen_not_ready:
                r = scrape(srv, "/_ephpm/ready")
                seen_not_ready = r.status == 503 and "no worker" in r.json()["reason"]
        check(seen_not_ready, "readiness was false while no worker was up")
        check(wait_for(lambda: scrape(srv, "/_ephpm/ready").status == 200, 15), "ready again")
        check(metric(srv, 'ephpm_worker_restarts_total{reason="crash_loop"}') >= 1, "crash_loop counted")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def sigkilled_worker_keeps_its_counts_and_counts_a_restart(p):
    srv = start("kill")
    try:
        master = srv.proc.pid
        check(wait_for(lambda: len(children(master)) == 2, 10), "two workers")
        by_pid = {}
        for _ in range(30):
            pid = wjson(srv.port, "incr=k")["pid"]
            by_pid[pid] = by_pid.get(pid, 0) + 1
        check(wait_for(lambda: metric(srv, PHP_2XX) == 30.0, 5), "30 requests counted")
        before = metric(srv, PHP_2XX)
        victim = max(by_pid, key=by_pid.get)
        os.kill(victim, signal.SIGKILL)
        check(wait_for(lambda: metric(srv, RESTARTS_SIGNAL) == 1.0, 10), "restart counted with reason signal")
        eq(metric(srv, PHP_2XX), before, "the dead worker's requests are still in the total")
        check(wait_for(lambda: len(children(master)) == 2, 10), "respawned")
        log = srv.stderr()
        want = r"\(pid %d\) killed by signal 9 \(SIGKILL\) after [0-9.]+ s and %d request\(s\); respawning \(reason: signal\)" % (
            victim, by_pid[victim])
        check(re.search(want, log), "restart logged with reason and request count:\n" + log[-1200:])
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def single_process_mode_serves_metrics(p):
    srv = start("single", workers=1)
    try:
        for _ in range(5):
            eq(get(srv.port, "/hello.php").status, 200, "hello")
        check(wait_for(lambda: metric(srv, PHP_2XX) == 5.0, 5), "requests counted in the single-process mode")
        eq(scrape(srv, "/_ephpm/ready").status, 200, "ready")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def no_metrics_listener_without_the_table(p):
    srv = SUITE.start("nometrics", config())
    try:
        master = srv.proc.pid
        eq(listening_ports(master), {srv.port}, "the master listens on the public port only")
        for pid in wait_for(lambda: children(master), 10):
            eq(listening_ports(pid), {srv.port}, "a worker listens on the public port only")
        check(b"ephpm_http_requests_total" not in get(srv.port, "/metrics").body, "no /metrics on the public port")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def bad_metrics_config_exits_2(p):
    for table, message in (('[metrics]\nlisten = "nope"\n', "[metrics] listen: "),
                           ('[metrics]\nlisten = 9090\n', "[metrics] listen: expected a string"),
                           ('[metrics]\npath = "/m"\n', "[metrics] path: unknown key (expected one of: listen)")):
        path = os.path.join(CTX.workdir, "bad-metrics.toml")
        with open(path, "w") as f:
            f.write(config() + table)
        out = subprocess.run([CTX.binary, "serve", "--config", path], capture_output=True, timeout=30)
        eq(out.returncode, 2, "exit code for %r" % table)
        check(("%s: %s" % (path, message)).encode() in out.stderr, "message: %r" % out.stderr)


def setup():
    CTX.docroot = os.path.join(CTX.workdir, "public")
    shutil.copytree(e2e.FIXTURES, CTX.docroot, symlinks=True)
    os.makedirs(os.path.join(CTX.docroot, ".git"), exist_ok=True)
    with open(os.path.join(CTX.docroot, ".git", "config"), "w") as f:
        f.write("[core]\n")


if __name__ == "__main__":
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        print("prometheus/promtool not installed (bash scripts/deps.sh)")
        print("0 passed, 1 failed")
        sys.exit(1)
    SUITE.main(setup, private_binary=False)
