#!/usr/bin/env python3
"""HTTP benchmark: `ephpm serve` vs nginx + php-fpm (pm=static, 2 and 8 children) vs `php -S`.

All servers are started by this script on free loopback ports with temporary configs, measured
back to back with wrk (-t2 -c50, --latency), and stopped by pid. Pages: hello.php and a counter
page (ephpm_kv_incr under ephpm, apcu_inc under php-fpm / php -S). Each cell is the median of
RUNS runs of DURATION seconds after a warm-up. Then idle RSS of `ephpm serve` and its RSS growth
over a SOAK-second wrk soak. Writes bench/results/http.md (and raw wrk output under
bench/results/raw/http/).

`ephpm serve` runs twice: with its default (`[php] workers` = one per CPU, key `ephpm`) and with
`workers = 1` (key `ephpm1`, the single-process mode). A third section, the slow-page mix
(SLOW=0 skips it), compares `ephpm serve` with `workers = 8` (key `ephpm8`) and nginx + php-fpm
with 8 children: a wrk with SLOW_CONNECTIONS (32) connections sends a mix where 10 % of the
requests hit slow.php (usleep 100 ms), while a probe wrk with 4 connections requests hello.php;
the probe's latency is the latency of fast pages under that load.

A fourth section, the Symfony app (SYMFONY=0 skips it): examples/symfony-app's `GET /posts/1` (a cache
hit through CacheInterface::get()) under `ephpm serve` in worker mode (ephpm/symfony-runtime, key
`sf-worker`), `ephpm serve` in classic mode (`sf-classic`) and nginx + php-fpm with 2 and 8 children
(`sf-fpm2`, `sf-fpm8`) where the same app runs with APP_ENV=bench_apcu (the same pools on Symfony's
ApcuAdapter; bench/http/apcu_kv_shim.php serves the app's two ephpm_kv_* calls from APCu). Needs
`composer install` in examples/symfony-app (done here when vendor/ is missing). Its report is
bench/results/http-symfony.md; `ONLY=sf-worker,sf-classic,sf-fpm2,sf-fpm8` runs only this section
(http.md is then left alone).

The metrics cost (issue 14's target: `[metrics]` costs at most 2 % of hello.php req/s): `ephpm serve`
with `[metrics] listen` and a scraper fetching /metrics every second, as Prometheus would (key
`ephpm-metrics`), runs next to the default one (`ephpm`) in the same interleaved runs. The per-request
counters run with or without `[metrics]`, so EPHPM_BASELINE_BIN (a build without the metrics code,
copied before the run) adds `ephpm-base` to measure them too. `ONLY=ephpm,ephpm-metrics[,ephpm-base]`
runs just these and writes bench/results/http-metrics.md instead of http.md.

A fifth section, static files (STATIC=0 skips it, key `static` in ONLY): the same file (STATIC_SIZE
bytes, default 4096, and a 256 KiB one) served by `ephpm serve` (default workers) and by nginx alone
(`sendfile on`, NGINX_WORKERS workers, its default open_file_cache off), started side by side;
the server CPU per request (utime + stime of all their processes over the run, divided by the
requests wrk completed) and the ratio ephpm / nginx. `ONLY=slow,static` runs just the slow-page
mix and this section and writes bench/results/http-dispatch-static.md instead of http.md.

Environment: EPHPM_BIN (default build/runtime/ephpm), EPHPM_BASELINE_BIN, RUNS (3), DURATION (10), SOAK (60),
CONNECTIONS (50), NGINX_WORKERS (1), ONLY (comma list of server names), QUICK=1 (1 run of 5 s,
soak 10 s), SLOW (1), SLOW_CONNECTIONS (32), SYMFONY (1).
"""
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
QUICK = os.environ.get("QUICK") == "1"
RUNS = int(os.environ.get("RUNS", "1" if QUICK else "3"))
DURATION = int(os.environ.get("DURATION", "5" if QUICK else "10"))
SOAK = int(os.environ.get("SOAK", "10" if QUICK else "60"))
CONNS = int(os.environ.get("CONNECTIONS", "50"))
NGINX_WORKERS = os.environ.get("NGINX_WORKERS", "1")
EPHPM = os.path.abspath(os.environ.get("EPHPM_BIN", os.path.join(ROOT, "build/runtime/ephpm")))
ONLY = [s for s in os.environ.get("ONLY", "").split(",") if s]
SLOW = os.environ.get("SLOW", "1") != "0"
SLOW_CONNS = int(os.environ.get("SLOW_CONNECTIONS", "32"))
SYMFONY = os.environ.get("SYMFONY", "1") != "0"
STATIC = os.environ.get("STATIC", "1") != "0"
STATIC_SIZE = int(os.environ.get("STATIC_SIZE", "4096"))
STATIC_FILES = (("static-small.css", STATIC_SIZE), ("static-256k.bin", 256 * 1024))
SF_APP = os.path.join(ROOT, "examples", "symfony-app")
SF_PAGE = "posts_1"  # the file-name form of /posts/1 (raw files: <key>-posts_1-run<i>.txt)
SF_PATH = "/posts/1"
BASELINE = os.environ.get("EPHPM_BASELINE_BIN", "")
METRICS_KEYS = {"ephpm", "ephpm-metrics", "ephpm-base"}
METRICS_ONLY = bool(ONLY) and set(ONLY) <= METRICS_KEYS

HELLO = "<?php\necho \"Hello, world!\\n\";\n"
COUNTER_KV = "<?php\necho ephpm_kv_incr('counter');\n"
COUNTER_APCU = "<?php\necho apcu_inc('counter', 1, $ok);\n"
SLOW_PAGE = "<?php\nusleep(100000);\necho \"slow\\n\";\n"
# wrk script for the slow-page mix: 1 request in 10 goes to slow.php.
MIX_LUA = """
local n = 0
request = function()
  n = n + 1
  if n % 10 == 0 then return wrk.format("GET", "/slow.php") end
  return wrk.format("GET", "/hello.php")
end
"""


STARTED = []  # every process this script started, stopped by pid at the end


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                r.read()
                return True
        except Exception:  # noqa
            time.sleep(0.1)
    raise RuntimeError("no answer from " + url)


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def cpu_ticks(pids):
    """utime + stime of the given processes, in clock ticks."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return total


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


class Proc:
    def __init__(self, name, argv, cwd=None, env=None):
        self.name = name
        self.argv = argv
        self.log = open(os.path.join(WORK, name + ".log"), "w")
        self.p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait()
        return self.p.returncode


def docroot(name, counter):
    d = os.path.join(WORK, name, "public")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "hello.php"), "w") as f:
        f.write(HELLO)
    with open(os.path.join(d, "counter.php"), "w") as f:
        f.write(counter)
    with open(os.path.join(d, "slow.php"), "w") as f:
        f.write(SLOW_PAGE)
    # OPcache's file_update_protection (2 s) would skip caching freshly written scripts.
    old = time.time() - 60
    for fn in os.listdir(d):
        os.utime(os.path.join(d, fn), (old, old))
    return d


# ------------------------------------------------------------------------------------------------


def start_ephpm(workers=None, name=None, metrics=False, binary=None):
    name = name or ("ephpm" if workers is None else "ephpm%d" % workers)
    d = docroot(name, COUNTER_KV)
    port = free_port()
    cfg = os.path.join(WORK, name, "ephpm.toml")
    metrics_port = free_port() if metrics else None
    with open(cfg, "w") as f:
        f.write('[server]\nlisten = "127.0.0.1:%d"\ndocument_root = "public"\n'
                '[log]\nlevel = "warn"\n' % port)
        if workers is not None:
            f.write("[php]\nworkers = %d\n" % workers)
        if metrics:
            f.write('[metrics]\nlisten = "127.0.0.1:%d"\n' % metrics_port)
    proc = Proc(name, [binary or EPHPM, "serve", "--config", cfg])
    STARTED.append(proc)
    wait_http("http://127.0.0.1:%d/hello.php" % port)
    procs = [proc]
    if metrics:  # scraped every second for as long as it runs, as Prometheus would
        scraper = Proc(name + "-scraper", [sys.executable, "-c", SCRAPER, str(metrics_port)])
        STARTED.append(scraper)
        procs.append(scraper)
    # The master and its worker processes (none with workers = 1).
    return {"port": port, "procs": procs, "pids": lambda: [proc.p.pid] + children(proc.p.pid)}


SCRAPER = """
import sys, time, urllib.request
url = "http://127.0.0.1:%s/metrics" % sys.argv[1]
while True:
    try:
        urllib.request.urlopen(url, timeout=5).read()
    except OSError:
        pass
    time.sleep(1)
"""


def start_baseline():
    copy = os.path.join(WORK, "ephpm-baseline")
    shutil.copy(BASELINE, copy)  # the file may be rebuilt while the benchmark runs
    return start_ephpm(name="ephpm-base", binary=copy)


def start_php_fpm(name, base, children_count, pool=""):
    """php-fpm, pm = static with children_count children, on a Unix socket in base (`pool`: more
    lines for its pool); returns its Proc and the socket once the socket exists."""
    sock = os.path.join(base, "fpm.sock")
    fpm_conf = os.path.join(base, "php-fpm.conf")
    with open(fpm_conf, "w") as f:
        f.write("[global]\npid = %s/fpm.pid\nerror_log = %s/fpm-error.log\ndaemonize = no\n"
                "[www]\nlisten = %s\nlisten.mode = 0666\npm = static\npm.max_children = %d\n"
                "pm.max_requests = 0\n%s" % (base, base, sock, children_count, pool))
    fpm = Proc(name + "-php-fpm", ["php-fpm8.2", "-R", "-F", "-y", fpm_conf])
    STARTED.append(fpm)
    deadline = time.time() + 10
    while not os.path.exists(sock) and time.time() < deadline:
        time.sleep(0.05)
    return fpm, sock


def start_nginx(name, base, server, http="", probe="/", timeout=20):
    """nginx with NGINX_WORKERS worker(s) on a free port, its files in base; `server` is the body of
    its server block after `listen`, `http` more lines for its http block. Returns the server
    (port, procs, pids) once `probe` answers."""
    port = free_port()
    conf = os.path.join(base, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""worker_processes %s;
daemon off;
pid %s/nginx.pid;
error_log %s/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
%s  client_body_temp_path %s/body; fastcgi_temp_path %s/fcgi; proxy_temp_path %s/proxy;
  uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:%d;
%s  }
}
""" % (NGINX_WORKERS, base, base, http, base, base, base, base, base, port, server))
    nginx = Proc(name, ["nginx", "-c", conf, "-p", base])
    STARTED.append(nginx)
    wait_http("http://127.0.0.1:%d%s" % (port, probe), timeout)
    return {"port": port, "procs": [nginx], "pids": lambda: [nginx.p.pid] + children(nginx.p.pid)}


def start_nginx_fpm(name, children_count, server, probe, pool="", timeout=20):
    """nginx in front of php-fpm (start_php_fpm, start_nginx); `server` may name the php-fpm socket
    as {sock}."""
    base = os.path.join(WORK, name)
    os.makedirs(base, exist_ok=True)
    fpm, sock = start_php_fpm(name, base, children_count, pool)
    srv = start_nginx(name + "-nginx", base, server.replace("{sock}", sock), probe=probe, timeout=timeout)
    nginx_pids = srv["pids"]
    srv["procs"].append(fpm)
    srv["pids"] = lambda: nginx_pids() + [fpm.p.pid] + children(fpm.p.pid)
    return srv


def start_fpm(children_count):
    name = "fpm%d" % children_count
    d = docroot(name, COUNTER_APCU)
    return start_nginx_fpm(name, children_count, """    root %s;
    location ~ \\.php$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_pass unix:{sock};
    }
""" % d, "/hello.php")


def static_docroot(name):
    d = os.path.join(WORK, name, "public")
    os.makedirs(d, exist_ok=True)
    for fn, size in STATIC_FILES:
        with open(os.path.join(d, fn), "wb") as f:
            f.write((b"/* ephpm static benchmark */\n" * (size // 30 + 1))[:size])
    return d


def start_static_ephpm():
    d = static_docroot("static-ephpm")
    port = free_port()
    cfg = os.path.join(WORK, "static-ephpm", "ephpm.toml")
    with open(cfg, "w") as f:
        f.write('[server]\nlisten = "127.0.0.1:%d"\ndocument_root = "public"\n'
                '[log]\nlevel = "warn"\n' % port)
    proc = Proc("static-ephpm", [EPHPM, "serve", "--config", cfg])
    STARTED.append(proc)
    wait_http("http://127.0.0.1:%d/%s" % (port, STATIC_FILES[0][0]))
    return {"port": port, "procs": [proc], "pids": lambda: [proc.p.pid] + children(proc.p.pid)}


def start_static_nginx():
    base = os.path.join(WORK, "static-nginx")
    d = static_docroot("static-nginx")
    return start_nginx("static-nginx", base, "    root %s;\n" % d,
                       http="  include /etc/nginx/mime.types;\n  sendfile on;\n  tcp_nopush on;\n",
                       probe="/" + STATIC_FILES[0][0])


STATIC_SERVERS = [
    ("ephpm serve (workers = %d)" % os.cpu_count(), "static-ephpm", start_static_ephpm),
    ("nginx (%s worker(s), sendfile on)" % NGINX_WORKERS, "static-nginx", start_static_nginx),
]


def static_section():
    """Per file: req/s, p99 and server CPU/request of each static server, interleaved runs."""
    servers = [(label, key, start()) for label, key, start in STATIC_SERVERS]
    out = {}
    for fn, _ in STATIC_FILES:
        for label, key, srv in servers:
            wrk(srv["port"], fn, 2, "%s-%s-warmup" % (key, fn))
        for i in range(RUNS):
            for label, key, srv in servers:
                r = wrk(srv["port"], fn, DURATION, "%s-%s-run%d" % (key, fn, i), srv["pids"]())
                out.setdefault((key, fn), []).append(r)
                print("static run %d %-40s %-18s %9.0f req/s  p99 %7.2f ms  server CPU %6.1f us/req" %
                      (i + 1, label, fn, r[0], r[1], r[4]), flush=True)
    for label, key, srv in servers:
        for p in srv["procs"]:
            p.stop()
    return out


def static_report_lines(static):
    lines = ["## Static files\n",
             "The same file served by `ephpm serve` and by nginx alone, started side by side, runs "
             "interleaved; `wrk -t2 -c%d -d%ds`, median of %d runs (per-run values in brackets). Server "
             "CPU/req = user + system CPU time of all the server's processes during a run (utime + stime "
             "from /proc), divided by the requests wrk completed; wrk's own CPU is not included.\n" % (CONNS, DURATION, RUNS),
             "| File | Server | req/s | p99 | server CPU/req |", "|---|---|---:|---:|---:|"]
    for fn, size in STATIC_FILES:
        cpus = {}
        for label, key, _ in STATIC_SERVERS:
            runs = static.get((key, fn))
            if not runs:
                continue
            cpu = statistics.median(r[4] for r in runs)
            cpus[key] = cpu
            lines.append("| %s (%d B) | %s | %s | %.2f ms | %.1f µs %s |" % (
                fn, size, label, "{:,.0f}".format(statistics.median(r[0] for r in runs)),
                statistics.median(r[1] for r in runs), cpu, [round(r[4], 1) for r in runs]))
        if len(cpus) == 2:
            lines.append("| | **ephpm / nginx CPU per request** | | | **%.2f×** |"
                         % (cpus["static-ephpm"] / cpus["static-nginx"]))
    lines.append("")
    lines.append("Target: ≤ 1.2× nginx's CPU per request.\n")
    return lines


def start_php_s():
    d = docroot("php-s", COUNTER_APCU)
    port = free_port()
    env = dict(os.environ)
    proc = Proc("php-S", ["php8.2", "-d", "opcache.enable_cli=1", "-S", "127.0.0.1:%d" % port,
                          "-t", d], env=env)
    STARTED.append(proc)
    wait_http("http://127.0.0.1:%d/hello.php" % port)
    return {"port": port, "procs": [proc], "pids": lambda: [proc.p.pid]}


SERVERS = [
    ("ephpm serve (workers = %d, the default: one per CPU)" % os.cpu_count(), "ephpm", start_ephpm),
    ("ephpm serve (default workers, `[metrics]` on, scraped every 1 s)", "ephpm-metrics",
     lambda: start_ephpm(name="ephpm-metrics", metrics=True)),
] + ([("ephpm serve (default workers), baseline binary without the metrics code", "ephpm-base",
       start_baseline)] if BASELINE else []) + [
    ("ephpm serve (workers = 1)", "ephpm1", lambda: start_ephpm(1)),
    ("nginx + php-fpm (static, 2 children)", "fpm2", lambda: start_fpm(2)),
    ("nginx + php-fpm (static, 8 children)", "fpm8", lambda: start_fpm(8)),
    ("php -S (OPcache on)", "php-s", start_php_s),
]


def wrk(port, page, duration, tag, pids=None):
    t0 = cpu_ticks(pids) if pids else 0
    path = SF_PATH if page == SF_PAGE else "/" + page
    out = subprocess.run(["wrk", "-t2", "-c%d" % CONNS, "-d%ds" % duration, "--latency",
                          "http://127.0.0.1:%d%s" % (port, path)],
                         capture_output=True, text=True).stdout
    with open(os.path.join(RAW, tag + ".txt"), "w") as f:
        f.write(out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock_err = re.search(r"Socket errors: (.*)", out)
    cpu_us = None
    if pids:
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        ticks = cpu_ticks(pids) - t0
        cpu_us = ticks * 1e6 / os.sysconf("SC_CLK_TCK") / max(requests, 1)
    return (rps, p99, (int(errors.group(1)) if errors else 0), (sock_err.group(1) if sock_err else ""),
            cpu_us)


def latency_ms(out, pct):
    m = re.search(r"%s%%\s+([\d.]+)(us|ms|s)\b" % pct, out)
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)] if m else float("nan")


def slow_mix(port, duration, tag):
    """The 10 % slow mix on SLOW_CONNS connections plus a 4-connection hello.php probe, at once."""
    lua = os.path.join(WORK, "mix.lua")
    with open(lua, "w") as f:
        f.write(MIX_LUA)
    mix = subprocess.Popen(["wrk", "-t1", "-c%d" % SLOW_CONNS, "-d%ds" % (duration + 1), "-s", lua,
                            "--latency", "http://127.0.0.1:%d/" % port],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)  # the mix is running before the probe starts
    probe = subprocess.run(["wrk", "-t1", "-c4", "-d%ds" % duration, "--latency",
                            "http://127.0.0.1:%d/hello.php" % port],
                           capture_output=True, text=True).stdout
    mix_out = mix.communicate()[0]
    with open(os.path.join(RAW, tag + "-mix.txt"), "w") as f:
        f.write(mix_out)
    with open(os.path.join(RAW, tag + "-probe.txt"), "w") as f:
        f.write(probe)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", mix_out).group(1))
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", mix_out + probe)
    return {"p50": latency_ms(probe, 50), "p99": latency_ms(probe, 99), "mix_rps": rps,
            "probe_rps": float(re.search(r"Requests/sec:\s+([\d.]+)", probe).group(1)),
            "errors": int(errs.group(1)) if errs else 0}


SLOW_SERVERS = [
    ("ephpm serve (workers = 8)", "ephpm8", lambda: start_ephpm(8)),
    ("nginx + php-fpm (static, 8 children)", "fpm8", lambda: start_fpm(8)),
]


# --- the Symfony app ------------------------------------------------------------------------------


def sf_prepare():
    """vendor/ and warm container caches for both environments (prod for ephpm, bench_apcu for php-fpm)."""
    if not os.path.exists(os.path.join(SF_APP, "vendor", "autoload_runtime.php")):
        subprocess.run(["composer", "install", "--no-interaction", "--no-progress"], cwd=SF_APP, check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run(["rm", "-rf", os.path.join(SF_APP, "var", "cache", "prod"),
                    os.path.join(SF_APP, "var", "cache", "bench_apcu")], check=True)
    subprocess.run([EPHPM, "php", "bin/console", "cache:warmup"], cwd=SF_APP, check=True,
                   stdout=subprocess.DEVNULL, env=dict(os.environ, APP_ENV="prod", APP_DEBUG="0"))
    subprocess.run(["php8.2", "bin/console", "cache:warmup"], cwd=SF_APP, check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, APP_ENV="bench_apcu", APP_DEBUG="0"))


def start_sf_ephpm(mode):
    name = "sf-" + mode
    base = os.path.join(WORK, name)
    os.makedirs(base, exist_ok=True)
    port = free_port()
    cfg = os.path.join(base, "ephpm.toml")
    with open(cfg, "w") as f:
        f.write('[server]\nlisten = "127.0.0.1:%d"\ndocument_root = "%s/public"\n[log]\nlevel = "warn"\n'
                % (port, SF_APP))
        if mode == "worker":
            f.write('[php]\nmode = "worker"\nworker_script = "index.php"\n')
    env = dict(os.environ, APP_ENV="prod", APP_DEBUG="0")
    proc = Proc(name, [EPHPM, "serve", "--config", cfg], cwd=SF_APP, env=env)
    STARTED.append(proc)
    wait_http("http://127.0.0.1:%d%s" % (port, SF_PATH), timeout=60)
    return {"port": port, "procs": [proc], "pids": lambda: [proc.p.pid] + children(proc.p.pid)}


def start_sf_fpm(children_count):
    return start_nginx_fpm("sf-fpm%d" % children_count, children_count, """    root %s/public;
    location / { try_files $uri /index.php$is_args$args; }
    location ~ ^/index\\.php(/|$) {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;
      fastcgi_param DOCUMENT_ROOT $realpath_root;
      fastcgi_pass unix:{sock};
      internal;
    }
""" % SF_APP, SF_PATH, timeout=60,
        pool="env[APP_ENV] = bench_apcu\nenv[APP_DEBUG] = 0\nphp_admin_value[auto_prepend_file] = %s\n"
        % os.path.join(ROOT, "bench/http/apcu_kv_shim.php"))


SF_SERVERS = [
    ("ephpm serve, worker mode (ephpm/symfony-runtime)", "sf-worker", lambda: start_sf_ephpm("worker")),
    ("ephpm serve, classic mode", "sf-classic", lambda: start_sf_ephpm("classic")),
    ("nginx + php-fpm + APCu pools (static, 2 children)", "sf-fpm2", lambda: start_sf_fpm(2)),
    ("nginx + php-fpm + APCu pools (static, 8 children)", "sf-fpm8", lambda: start_sf_fpm(8)),
]


def sf_check(srv):
    """The page answers a cache hit (the loader does not run) before it is measured."""
    import json
    for _ in range(2):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (srv["port"], SF_PATH), timeout=10) as r:
            body = json.loads(r.read())
    if body.get("computed") is not False:
        raise RuntimeError("%s is not a cache hit: %r" % (SF_PATH, body))


def sf_section(results, notes):
    """The Symfony app on every SF_SERVERS entry, runs interleaved; results[(key, SF_PAGE)]."""
    sf_prepare()
    servers = [(label, key, start()) for label, key, start in SF_SERVERS if not ONLY or key in ONLY]
    raw_runs = {}
    try:
        for label, key, srv in servers:
            sf_check(srv)
            wrk(srv["port"], SF_PAGE, 2, "%s-%s-warmup" % (key, SF_PAGE))
        for i in range(RUNS):
            for label, key, srv in servers:
                r = wrk(srv["port"], SF_PAGE, DURATION, "%s-%s-run%d" % (key, SF_PAGE, i), srv["pids"]())
                raw_runs.setdefault(key, []).append(r)
                print("symfony run %d %-50s %9.0f req/s  p99 %7.2f ms  server CPU %6.1f us/req" %
                      (i + 1, label, r[0], r[1], r[4]), flush=True)
        for label, key, srv in servers:
            notes.append("%s total RSS after the Symfony runs: %.1f MiB" % (key, rss_kib(srv["pids"]()) / 1024))
    finally:
        for label, key, srv in servers:
            for p in srv["procs"]:
                p.stop()
    for key, runs in raw_runs.items():
        errs = sum(r[2] for r in runs)
        results[(key, SF_PAGE)] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
                                   [round(r[0]) for r in runs], errs, statistics.median(r[4] for r in runs))
        if errs or any(r[3] for r in runs):
            notes.append("%s %s: %d non-2xx responses; socket errors: %s" %
                         (key, SF_PATH, errs, "; ".join(r[3] for r in runs if r[3])))


def write_sf_report(results, notes, load_before):
    """bench/results/http-symfony.md (its own file: `ONLY=sf-worker,...` re-runs it without touching http.md)."""
    rows = [(label, key, results.get((key, SF_PAGE))) for label, key, _ in SF_SERVERS]
    rows = [r for r in rows if r[2]]
    if not rows:
        return
    lines = ["# HTTP benchmark: the Symfony app, `GET /posts/1`\n"]
    lines.append("Generated by `bench/http/run.sh` on %s (%d vCPUs). Load average before the run: %.2f / %.2f / %.2f, "
                 "after: %.2f / %.2f / %.2f (the machine is shared with other sessions' builds and tests: absolute "
                 "numbers are noisy, the servers' runs are interleaved so the ratios are the result).\n"
                 % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(), *load_before,
                    *os.getloadavg()))
    lines.append("examples/symfony-app (Symfony 7.4, `APP_ENV=prod`), `GET /posts/1`: a cache hit through "
                 "`CacheInterface::get()` on `cache.posts`, plus one store read for the loader counter. The same "
                 "application and data everywhere: under `ephpm serve` its pools are `EphpmKvAdapter`s; under "
                 "nginx + php-fpm the same pools are Symfony's `ApcuAdapter` (`APP_ENV=bench_apcu`). Worker mode: "
                 "`[php] mode = \"worker\"` with ephpm/symfony-runtime (the kernel booted once per worker, "
                 "re-booted every 450–500 requests by the runtime's loop limit); classic mode boots the kernel on "
                 "every request, as php-fpm does. `wrk -t2 -c%d -d%ds --latency`, 2 s warm-up, median of %d runs "
                 "(per-run req/s in brackets), runs interleaved. Server CPU/req: user + system CPU of the server's processes per request.\n"
                 % (CONNS, DURATION, RUNS))
    lines.append("| Server | /posts/1 req/s | p99 | server CPU/req |")
    lines.append("|---|---:|---:|---:|")
    for label, key, r in rows:
        lines.append("| %s | %s %s | %.2f ms | %.0f µs |" % (label, "{:,.0f}".format(r[0]), r[2], r[1], r[4]))
    lines.append("")
    fpm = [(r[0], key, r) for label, key, r in rows if key.startswith("sf-fpm")]
    w = results.get(("sf-worker", SF_PAGE))
    c = results.get(("sf-classic", SF_PAGE))
    if fpm:
        best = max(fpm)
        if w:
            lines.append("**Worker mode = %.2f× the req/s of the best nginx + php-fpm configuration (%s)**; p99 %.2f ms "
                         "vs %.2f ms. Target: ≥ 5×.\n" % (w[0] / best[0], best[1], w[1], best[2][1]))
        if c:
            lines.append("Classic mode: %.2f× (%s req/s).\n" % (c[0] / best[0], "{:,.0f}".format(c[0])))
    if w and c:
        lines.append("Worker mode vs classic mode, both `ephpm serve`: %.2f×; server CPU per request %.0f µs vs "
                     "%.0f µs (what booting the kernel on every request costs).\n" % (w[0] / c[0], w[4], c[4]))
    if w and fpm:
        lines.append("Server CPU per request (less sensitive to other load on the machine than req/s): worker mode "
                     "%.1f× less than the best nginx + php-fpm configuration.\n" % (max(fpm)[2][4] / w[4]))
    if notes:
        lines.append("## Notes\n")
        lines.extend("* " + n for n in notes)
        lines.append("")
    lines.append("Raw wrk output: `bench/results/raw/http/*-posts_1-*.txt` (not committed).\n")
    out = os.path.join(ROOT, "bench/results/http-symfony.md")
    with open(out, "w") as f:
        f.write("\n".join(lines))
    print("wrote " + out)


def main():
    global WORK, RAW
    if not os.access(EPHPM, os.X_OK):
        sys.exit("bench/http: %s not built (make build)" % EPHPM)
    WORK = tempfile.mkdtemp(prefix="ephpm-bench-http-")
    os.chmod(WORK, 0o755)  # nginx workers run as nobody and must reach the FastCGI socket
    RAW = os.path.join(ROOT, "bench/results/raw/http")
    os.makedirs(RAW, exist_ok=True)
    load_before = os.getloadavg()
    results = {}
    notes = []
    soak = None
    try:
        # Every server is started up front and the runs are interleaved (run 1 of every server,
        # then run 2, ...), so that load drifting on a shared machine hits all of them alike.
        servers = [(label, key, start()) for label, key, start in SERVERS if not ONLY or key in ONLY]
        pages = ("hello.php", "counter.php")
        raw_runs = {}
        for label, key, srv in servers:
            for page in pages:
                wrk(srv["port"], page, 2, "%s-%s-warmup" % (key, page))
        for i in range(RUNS):
            for page in pages:
                for label, key, srv in servers:
                    r = wrk(srv["port"], page, DURATION, "%s-%s-run%d" % (key, page, i), srv["pids"]())
                    raw_runs.setdefault((key, page), []).append(r)
                    print("run %d %-40s %-12s %9.0f req/s  p99 %7.2f ms  server CPU %6.1f us/req" %
                          (i + 1, label, page, r[0], r[1], r[4]), flush=True)
        for (key, page), runs in raw_runs.items():
            rps = statistics.median(r[0] for r in runs)
            p99 = statistics.median(r[1] for r in runs)
            errs = sum(r[2] for r in runs)
            cpu = statistics.median(r[4] for r in runs)
            results[(key, page)] = (rps, p99, [round(r[0]) for r in runs], errs, cpu)
            if errs or any(r[3] for r in runs):
                notes.append("%s %s: %d non-2xx responses; socket errors: %s" %
                             (key, page, errs, "; ".join(r[3] for r in runs if r[3])))
        slow = {}
        if SLOW and (not ONLY or "slow" in ONLY):
            running = {key: srv for _, key, srv in servers}
            mix_servers = [(label, key, running.get(key) or start()) for label, key, start in SLOW_SERVERS]
            for label, key, srv in mix_servers:
                slow_mix(srv["port"], 2, "slow-%s-warmup" % key)
            for i in range(RUNS):
                for label, key, srv in mix_servers:
                    r = slow_mix(srv["port"], DURATION, "slow-%s-run%d" % (key, i))
                    slow.setdefault(key, []).append(r)
                    print("slow mix run %d %-40s fast p50 %7.2f ms  p99 %7.2f ms  mix %7.0f req/s" %
                          (i + 1, label, r["p50"], r["p99"], r["mix_rps"]), flush=True)
            for label, key, srv in mix_servers:
                if key not in running:
                    for p in srv["procs"]:
                        p.stop()
        results["slow"] = slow
        if STATIC and (not ONLY or "static" in ONLY):
            results["static"] = static_section()
        if SYMFONY and (not ONLY or any(k.startswith("sf-") for k in ONLY)):
            sf_notes = []
            sf_section(results, sf_notes)
            write_sf_report(results, sf_notes, load_before)
        for label, key, srv in servers:
            if key.startswith("fpm"):
                notes.append("%s total RSS (nginx + php-fpm master and children) after the runs: %.1f MiB"
                             % (key, rss_kib(srv["pids"]()) / 1024))
        for label, key, srv in servers:
            if key != "ephpm":
                for p in srv["procs"]:
                    p.stop()
        for label, key, srv in servers:
            if key == "ephpm" and not METRICS_ONLY:
                pids = srv["pids"]()
                soak = {"after_warmup": rss_kib(pids)}
                wrk(srv["port"], "hello.php", SOAK, "ephpm-soak")
                soak["after_soak"] = rss_kib(pids)
                wrk(srv["port"], "counter.php", SOAK // 2 or 1, "ephpm-soak-counter")
                soak["after_soak_counter"] = rss_kib(pids)
                print("ephpm RSS: %r" % soak, flush=True)
                for p in srv["procs"]:
                    p.stop()
        # Idle RSS of a fresh ephpm serve (PHP started, store mapped, no request served yet).
        if not ONLY or ("ephpm" in ONLY and not METRICS_ONLY):
            srv = start_ephpm()
            time.sleep(1)
            idle = rss_kib(srv["pids"]())
            rc = srv["procs"][0].stop()
            soak = soak or {}
            soak["idle"] = idle
            soak["exit_code"] = rc
    finally:
        for p in STARTED:
            p.stop()
        shutil.rmtree(WORK, ignore_errors=True)
    if METRICS_ONLY:
        write_metrics_report(results, load_before)
    elif any(isinstance(k, tuple) and not k[0].startswith("sf-") for k in results) or soak:
        write_report(results, soak, notes, load_before)
    elif results.get("slow") or results.get("static"):
        write_report(results, soak, notes, load_before, "http-dispatch-static.md")


def write_metrics_report(results, load_before):
    lines = ["# HTTP benchmark: the cost of `[metrics]`\n",
             "Generated by `ONLY=%s bench/http/run.sh` on %s (%d vCPUs), load average before the run %.2f / %.2f / "
             "%.2f (a shared machine: absolute numbers are noisy, the servers run at the same time with "
             "interleaved runs). `wrk -t2 -c%d -d%ds`, median of %d runs (per-run req/s in brackets). The "
             "`[metrics]` server is scraped every second during the runs.\n"
             % (",".join(ONLY), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(),
                *load_before, CONNS, DURATION, RUNS),
             "| Server | hello.php req/s | hello p99 | server CPU/req | counter req/s | counter server CPU/req |",
             "|---|---:|---:|---:|---:|---:|"]
    for label, key, _ in SERVERS:
        h, c = results.get((key, "hello.php")), results.get((key, "counter.php"))
        if h and c:
            lines.append("| %s | %s %s | %.2f ms | %.0f µs | %s %s | %.0f µs |" % (
                label, "{:,.0f}".format(h[0]), h[2], h[1], h[4], "{:,.0f}".format(c[0]), c[2], c[4]))
    lines.append("")
    # (numerator, denominator, what): this build with [metrics] vs without; this build without
    # [metrics] (counters running) vs the baseline binary without any metrics code.
    for num, den, what in (("ephpm-metrics", "ephpm", "`[metrics]` on and scraped, vs off"),
                           ("ephpm", "ephpm-base", "this build without `[metrics]` (counters running), "
                                                   "vs the baseline binary without the metrics code")):
        n, d = results.get((num, "hello.php")), results.get((den, "hello.php"))
        if n and d:
            lines.append("**hello.php, %s: %.3f× the req/s** (server CPU per request %.1f µs vs %.1f µs). "
                         "Target: ≥ 0.98×.\n" % (what, n[0] / d[0], n[4], d[4]))
    out = os.path.join(ROOT, "bench/results/http-metrics.md")
    with open(out, "w") as f:
        f.write("\n".join(lines))
    print("wrote " + out)


def write_report(results, soak, notes, load_before, name="http.md"):
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.*)", f.read())
        if m:
            cpu = m.group(1)
    lines = []
    lines.append("# HTTP benchmark: `ephpm serve` vs nginx + php-fpm vs `php -S`\n")
    lines.append("Generated by `bench/http/run.sh` on %s (%d vCPUs, %s), %s. Load average before the run: "
                 "%.2f / %.2f / %.2f (the machine is shared with other sessions' builds and tests, so absolute "
                 "numbers are noisy; all servers run in one invocation with interleaved runs).\n"
                 % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(), cpu,
                    platform.release(), *load_before))
    lines.append("Method: `wrk -t2 -c%d -d%ds --latency` on loopback (wrk shares the 2 vCPUs), 2 s warm-up per "
                 "page, median of %d runs (per-run req/s in brackets); all servers run at the same time and "
                 "their runs are interleaved. PHP 8.2 (Debian), OPcache on everywhere "
                 "(ephpm uses SAPI name fpm-fcgi). nginx: %s worker(s), FastCGI over a unix socket, keep-alive. "
                 "php-fpm: `pm = static`. Counter page: `ephpm_kv_incr('counter')` under ephpm, "
                 "`apcu_inc('counter')` under php-fpm and `php -S`.\n" % (CONNS, DURATION, RUNS, NGINX_WORKERS))
    if any(isinstance(k, tuple) and k[1] == "hello.php" for k in results):
        lines.append("| Server | hello.php req/s | hello p99 | hello server CPU/req | counter req/s | counter p99 | counter server CPU/req |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for label, key, _ in SERVERS:
            h = results.get((key, "hello.php"))
            c = results.get((key, "counter.php"))
            if not h:
                continue
            lines.append("| %s | %s %s | %.2f ms | %.0f µs | %s %s | %.2f ms | %.0f µs |" % (
                label, "{:,.0f}".format(h[0]), h[2], h[1], h[4], "{:,.0f}".format(c[0]), c[2], c[1], c[4]))
        lines.append("")
        lines.append("Server CPU/req = user + system CPU time of the server's processes (ephpm: the master and its worker processes; "
                     "nginx + php-fpm: nginx master and workers, php-fpm master and children; php -S: the process) "
                     "during a run, divided by the requests completed: the machine time each stack spends per "
                     "request, which is much less sensitive to other load on the machine than req/s. wrk's own CPU "
                     "is not included.\n")
    w = results.get(("ephpm", "hello.php"))
    w1 = results.get(("ephpm1", "hello.php"))
    if w and w1:
        c2, c1 = results.get(("ephpm", "counter.php")), results.get(("ephpm1", "counter.php"))
        lines.append("**Worker processes: `workers = %d` = %.2f× the req/s of `workers = 1` on hello.php** "
                     "(%.2f× on the counter page). Target for 2 workers: ≥ 1.8×.\n"
                     % (os.cpu_count(), w[0] / w1[0], c2[0] / c1[0] if c2 and c1 else float("nan")))
        lines.append("Reading the ratio: wrk runs on the same %d vCPUs, and `workers = 1` already keeps more "
                     "than one core busy (its PHP thread, its I/O thread and wrk), so a second worker can only "
                     "add the CPU time that is left; the server CPU per request is about the same in both modes "
                     "(no per-request cost of the worker model), so the ratio measures the idle CPU the machine "
                     "had, not a limit of the model. The issue's 1.98× was measured without a load generator "
                     "sharing the cores.\n" % os.cpu_count())
    slow = results.get("slow") or {}
    if slow:
        lines.append("## Slow-page mix\n")
        lines.append("A wrk with %d connections sends hello.php, and slow.php (`usleep(100000)`) for every "
                     "10th request; at the same time a probe wrk with 4 connections requests hello.php. The "
                     "probe's latency is what a fast page costs while slow requests occupy PHP. Median of %d "
                     "runs of %d s.\n" % (SLOW_CONNS, RUNS, DURATION))
        lines.append("| Server | fast-page p50 | fast-page p99 | probe req/s | mix req/s |")
        lines.append("|---|---:|---:|---:|---:|")
        for label, key, _ in SLOW_SERVERS:
            runs = slow.get(key)
            if not runs:
                continue
            med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
            lines.append("| %s | %.2f ms | %.2f ms %s | %s | %s |" % (
                label, med("p50"), med("p99"), [round(r["p99"], 1) for r in runs],
                "{:,.0f}".format(med("probe_rps")), "{:,.0f}".format(med("mix_rps"))))
        lines.append("")
        lines.append("How the two dispatch: nginx hands every request to whichever php-fpm child is free (one "
                     "queue for all children). An `ephpm serve` worker runs the requests of its own keep-alive "
                     "connections, and when one of them would wait behind a script already running there while "
                     "another worker is idle, the connection moves to that worker with the request "
                     "(runtime/http/README.md, \"Dispatch\"). When every worker is busy, requests queue where "
                     "they were read, as under php-fpm they queue in nginx.\n")
    if results.get("static"):
        lines.extend(static_report_lines(results["static"]))
    best_fpm = None
    for key in ("fpm2", "fpm8"):
        r = results.get((key, "hello.php"))
        if r and (best_fpm is None or r[0] > best_fpm[1][0]):
            best_fpm = (key, r)
    e = results.get(("ephpm", "hello.php"))
    if e and best_fpm:
        lines.append("**hello.php: ephpm serve = %.2f× the req/s of the best nginx + php-fpm configuration (%s)**; "
                     "p99 %.2f ms vs %.2f ms. Target: ≥ 1.5×.\n" % (e[0] / best_fpm[1][0], best_fpm[0],
                                                                     e[1], best_fpm[1][1]))
        ec = results.get(("ephpm", "counter.php"))
        fc = results.get((best_fpm[0], "counter.php"))
        if ec and fc:
            lines.append("Counter page: %.2f× (%s req/s vs %s req/s).\n" % (
                ec[0] / fc[0], "{:,.0f}".format(ec[0]), "{:,.0f}".format(fc[0])))
    if soak:
        lines.append("## Memory of `ephpm serve`\n")
        lines.append("RSS summed over the master and its %d worker processes (pages they share, such as "
                     "PHP's code, OPcache's shared memory and the store arena, are counted once per process).\n"
                     % os.cpu_count())
        lines.append("| Measurement | RSS |")
        lines.append("|---|---:|")
        if "idle" in soak:
            lines.append("| idle, fresh server (PHP started, store mapped, no request yet) | %.1f MiB |" % (soak["idle"] / 1024))
        if "after_warmup" in soak:
            lines.append("| after the benchmark runs (before the soak) | %.1f MiB |" % (soak["after_warmup"] / 1024))
            lines.append("| after a %d s wrk soak on hello.php | %.1f MiB |" % (SOAK, soak["after_soak"] / 1024))
            lines.append("| after a further %d s soak on counter.php | %.1f MiB |" % (SOAK // 2 or 1, soak["after_soak_counter"] / 1024))
            growth = (soak["after_soak"] - soak["after_warmup"]) * 100.0 / soak["after_warmup"]
            lines.append("")
            lines.append("RSS growth over the %d s soak: %+.1f %% (target: ≤ 10 %%; idle target ≤ 64 MiB).\n" % (SOAK, growth))
        if "exit_code" in soak:
            lines.append("Exit code of `ephpm serve` after SIGTERM: %s.\n" % soak["exit_code"])
    if ("php-s", "hello.php") in results:
        notes.append("`php -S` answers every request with `Connection: close`, so wrk reconnects each time; the "
                     "read errors wrk reports for it are those closes, not failed requests.")
    if notes:
        lines.append("## Notes\n")
        for n in notes:
            lines.append("* " + n)
        lines.append("")
    lines.append("Raw wrk output: `bench/results/raw/http/` (not committed).\n")
    out = os.path.join(ROOT, "bench/results", name)
    with open(out, "w") as f:
        f.write("\n".join(lines))
    print("wrote " + out)


if __name__ == "__main__":
    main()
