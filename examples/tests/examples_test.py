#!/usr/bin/env python3
"""End-to-end tests of the README walk-throughs: examples/my-app and examples/symfony-app on `ephpm serve`,
and `ephpm --config ephpm.toml php bin/console ...` operating on the running server's store. The symfony-app
walk-through runs twice: in classic mode, then in worker mode (ephpm.worker.toml temporarily copied over
ephpm.toml, so the README's commands are run unchanged), plus worker-only checks (kernel booted once per worker,
per-request state reset, RSS over 10,000 requests, SIGHUP).

Usage: examples_test.py REPO_ROOT      (needs build/runtime/ephpm and `composer install` done in both examples;
                                        scripts/suites/60-examples.sh does both)

`ephpm` is a private copy of build/runtime/ephpm (examples/tests/.logs/bin/), safe from concurrent rebuilds;
`make demo` uses build/runtime/ephpm itself. Every server is started on a free loopback port (`--listen 127.0.0.1:0`; the port is read from the "listening on"
line) in its own session, and stopped by its pid (SIGTERM to that process group) before the test ends.

The README commands are run literally through bash (with `ephpm` = build/runtime/ephpm on PATH): `run_readme()`
records each one, and the last check verifies that every command line of the README sections this test covers was
run (a few lines are done by the harness itself: see HARNESS_LINES).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.path.join(ROOT, "build", "runtime")
MY_APP = os.path.join(ROOT, "examples", "my-app")
SF_APP = os.path.join(ROOT, "examples", "symfony-app")
README = os.path.join(ROOT, "README.md")
PKG_README = os.path.join(ROOT, "cache-symfony", "README.md")
DEFAULT_ADDR = "127.0.0.1:8080"



def private_bin_dir():
    """A copy of build/runtime/ephpm (+ its ephpm-php link) that concurrent rebuilds of build/
    cannot replace while this test runs."""
    d = os.path.join(ROOT, "examples", "tests", ".logs", "bin")
    os.makedirs(d, exist_ok=True)
    for n in ("ephpm", "ephpm-php"):
        if os.path.lexists(os.path.join(d, n)):
            os.unlink(os.path.join(d, n))
    shutil.copy2(os.path.join(BIN_DIR, "ephpm"), os.path.join(d, "ephpm"))
    os.link(os.path.join(d, "ephpm"), os.path.join(d, "ephpm-php"))
    return d


ENV = dict(os.environ)
ENV["PATH"] = private_bin_dir() + os.pathsep + ENV.get("PATH", "")
for k in ("EPHPM_CONFIG", "APP_ENV", "APP_DEBUG", "EPHPM_DEMO_LISTEN"):
    ENV.pop(k, None)

passed = 0
failures = []
LABEL = ""  # "[worker] " while the symfony-app walk-through runs in worker mode
executed = set()  # README command lines run by this test
servers = []


def check(name, ok, detail=""):
    global passed
    name = LABEL + name
    if ok:
        passed += 1
        print("ok   " + name)
    else:
        failures.append(name)
        print("FAIL " + name + (": " + detail if detail else ""))


# --- README parsing ---------------------------------------------------------------------------------------------

def section(path, heading):
    """Text of the '## heading' section of a Markdown file ('' when absent)."""
    text = open(path, encoding="utf-8").read()
    m = re.search(r"^## " + re.escape(heading) + r"\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    return m.group(1) if m else ""


def blocks(text, lang):
    return [b for l, b in re.findall(r"```(\w*)\n(.*?)```", text, re.S) if l == lang]


def command_lines(text):
    """Command lines of the ```sh blocks, without trailing comments and blank lines."""
    out = []
    for b in blocks(text, "sh"):
        for line in b.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


# --- processes --------------------------------------------------------------------------------------------------

def run_readme(cmd, cwd, addr=None, env=None, timeout=180):
    """Runs a README command line literally through bash; DEFAULT_ADDR becomes `addr`."""
    executed.add(cmd)
    real = cmd.replace(DEFAULT_ADDR, addr) if addr else cmd
    p = subprocess.run(["bash", "-c", real], cwd=cwd, env=env or ENV, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class Server:
    """A README server command (`... ephpm serve --config ephpm.toml`, `make demo`) on a free port."""

    def __init__(self, cmd, cwd, name, env=None, listen_flag=True):
        executed.add(cmd)
        self.name = name
        self.log = os.path.join(ROOT, "examples", "tests", ".logs", name + ".log")
        os.makedirs(os.path.dirname(self.log), exist_ok=True)
        real = cmd + (" --listen 127.0.0.1:0" if listen_flag else "")
        # "APP_ENV=dev ephpm serve ..." -> "APP_ENV=dev exec ephpm serve ...": the pid is the server's.
        m = re.match(r"^((?:\w+=\S*\s+)*)(.*)$", real)
        real = m.group(1) + "exec " + m.group(2)
        with open(self.log, "w") as f:
            self.proc = subprocess.Popen(["bash", "-c", real], cwd=cwd, env=env or ENV, stdout=f,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        servers.append(self)
        self.addr = None
        deadline = time.time() + 600  # `make demo` may build first
        while time.time() < deadline:
            m = re.search(r"ephpm: listening on http://(127\.0\.0\.1:\d+)", self.output())
            if m:
                self.addr = m.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("%s did not start:\n%s" % (name, self.output()[-3000:]))

    def output(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def url(self, path):
        return "http://%s%s" % (self.addr, path)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the session we created: the server (and make, for the demo)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self in servers:
            servers.remove(self)


def http_get(url):
    """(status, headers, body)"""
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace")


def get_json(url):
    status, _, body = http_get(url)
    try:
        return json.loads(body)
    except ValueError:
        return {"_status": status, "_body": body[:500]}


# --- 0. the attach rule itself, without Composer -----------------------------------------------------------------

def test_attach():
    print("--- ephpm php attaches to a running ephpm serve's store (same config file)")
    work = os.path.join(ROOT, "examples", "tests", ".logs", "attach")
    os.makedirs(os.path.join(work, "public"), exist_ok=True)
    with open(os.path.join(work, "public", "kv.php"), "w") as f:
        f.write('<?php\nif (isset($_GET["set"])) { ephpm_kv_set($_GET["k"], $_GET["set"]); }\n'
                'echo ephpm_kv_get($_GET["k"]) ?? "null";\n')
    cfg = os.path.join(work, "ephpm.toml")
    with open(cfg, "w") as f:
        f.write('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "./public"\n\n[kv]\nmemory_limit = "8MB"\n')
    notice = "ephpm php: no running ephpm serve for %s; using a private store" % cfg

    def php(code, config="--config ephpm.toml ", env=None):
        p = subprocess.run(["bash", "-c", "ephpm %sphp -r '%s'" % (config, code)], cwd=work, env=env or ENV,
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    srv = Server("ephpm serve --config ephpm.toml", work, "attach", listen_flag=False)
    executed.discard("ephpm serve --config ephpm.toml")
    rc, out, err = php('ephpm_kv_set("from-cli", "hello");')
    status, _, body = http_get(srv.url("/kv.php?k=from-cli"))
    check("a write by ephpm --config FILE php is seen by the server", rc == 0 and body == "hello", "%s %r %r" % (rc, body, err))
    http_get(srv.url("/kv.php?k=from-server&set=yes"))
    rc, out, err = php('echo ephpm_kv_get("from-server"), " ", ephpm_kv_stats()["memory_limit"];')
    check("ephpm php reads the server's keys, with the server's [kv]", out == "yes 8388608" and err == "", repr(out + err))
    rc, out, err = php('echo ephpm_kv_get("from-server") ?? "null";', config="", env=dict(ENV, EPHPM_CONFIG=cfg))
    check("EPHPM_CONFIG attaches too", out == "yes", repr(out + err))
    rc, out, err = php('echo ephpm_kv_get("from-server") ?? "null";', config="")
    check("./ephpm.toml (implicit) attaches too", out == "yes", repr(out + err))
    rc, out, err = php('echo ephpm_kv_get("from-server") ?? "null";', config="--config ../attach/ephpm.toml ")
    check("another spelling of the same path attaches (made absolute, .. removed)", out == "yes", repr(out + err))
    srv.stop()
    rc, out, err = php('echo ephpm_kv_get("from-server") ?? "null", " ", ephpm_kv_stats()["memory_limit"];')
    check("no server: a private, empty store with the config's [kv]", rc == 0 and out == "null 8388608", repr(out))
    check("no server, --config: one notice line on stderr", err.count(notice) == 1 and err.count("\n") == 1, repr(err))
    rc, out, err = php('echo 1;', config="")
    check("no server, implicit ./ephpm.toml: no notice", out == "1" and err == "", repr(err))
    rc, out, err = php('echo 1;', config="", env=dict(ENV, EPHPM_CONFIG=cfg))
    check("no server, EPHPM_CONFIG: the notice", out == "1" and notice in err, repr(err))

    # A store object that cannot be used (here: not an initialised arena; in real life e.g. a server of another
    # ephpm version) is reported even for an implicit ./ephpm.toml, and the private store is used.
    m = re.search(r"kv store (/ephpm-[0-9]+-[0-9a-f]+)", srv.output())
    shm = "/dev/shm" + (m.group(1) if m else "/ephpm-missing")
    if m and not os.path.exists(shm):
        with open(shm, "wb") as f:
            f.write(b"\0" * 65536)
        try:
            rc, out, err = php('echo ephpm_kv_get("from-server") ?? "null";', config="")
        finally:
            os.unlink(shm)
        check("unusable server store: reported on stderr, private store used",
              rc == 0 and out == "null" and ("ephpm php: cannot attach to the store of the ephpm serve for %s: store %s"
                                             % (cfg, m.group(1))) in err and "using a private store" in err, repr(err))
    else:
        check("unusable server store: test set-up (store name in the server log, no leftover %s)" % shm, False)


# --- 1. examples/my-app: the fresh-project walk-through ----------------------------------------------------------

def test_my_app():
    print("--- examples/my-app (README: End-to-end: a fresh PHP project)")
    sec = section(README, "End-to-end: a fresh PHP project")
    pkg_sec = section(PKG_README, "End-to-end: a fresh PHP project")
    check("README has the section 'End-to-end: a fresh PHP project'", sec != "")

    index = open(os.path.join(MY_APP, "public", "index.php")).read()
    toml = open(os.path.join(MY_APP, "ephpm.toml")).read()
    health = open(os.path.join(MY_APP, "public", "health.php")).read()
    composer = json.load(open(os.path.join(MY_APP, "composer.json")))
    check("public/index.php is the README's counter, verbatim", index in blocks(sec, "php"))
    check("public/index.php is cache-symfony/README.md's counter, verbatim", index in blocks(pkg_sec, "php"))
    check("ephpm.toml is the README's, verbatim", toml in blocks(sec, "toml") and toml in blocks(pkg_sec, "toml"))
    check("public/health.php is in the README, verbatim", health in blocks(sec, "php"))
    health_snippet = blocks(section(PKG_README, "Verifying the connection is live"), "php")
    check("public/health.php contains the README's health-check lines",
          bool(health_snippet) and health_snippet[0].strip() in health)
    readme_json = [json.loads(b) for b in blocks(sec, "json")]
    pkg_json = [json.loads(b) for b in blocks(pkg_sec, "json")]
    check("composer.json is the README's", composer in readme_json)
    check("composer.json keeps cache-symfony/README.md's name and require block",
          bool(pkg_json) and composer["require"] == pkg_json[0]["require"] and composer["name"] == pkg_json[0]["name"])

    rc, out, err = run_readme("composer install", MY_APP)
    check("composer install (my-app)", rc == 0 and os.path.exists(os.path.join(MY_APP, "vendor", "autoload.php")),
          err[-800:])

    n = 10
    srv = Server("ephpm serve --config ephpm.toml", MY_APP, "my-app")
    counts = []
    for _ in range(n):
        rc, out, err = run_readme("curl http://127.0.0.1:8080/", MY_APP, srv.addr)
        counts.append(out)
    expected = ["This page has been served %d times.\n" % i for i in range(1, n + 1)]
    check("%d sequential requests count 1..%d" % (n, n), counts == expected, repr(counts[:3]))
    status, headers, body = http_get(srv.url("/health.php"))
    check("health page passes (production form, zend.assertions=-1)", status == 200 and body.startswith("ok "),
          "%s %r" % (status, body[:300]))
    status, _, body = http_get(srv.url("/"))
    check("the counter survives the health check and goes on", body == "This page has been served %d times.\n" % (n + 1),
          repr(body))
    srv.stop()

    srv = Server("ephpm serve --config ephpm.toml", MY_APP, "my-app-restarted")
    status, _, body = http_get(srv.url("/"))
    check("a restart starts the counter again at 1 (the store lives in the server's memory)",
          body == "This page has been served 1 times.\n", repr(body))
    srv.stop()

    # The README's health check with assertions on: the same page, served with zend.assertions=1.
    tmp = os.path.join(ROOT, "examples", "tests", ".logs")
    cfg = os.path.join(tmp, "assertions.toml")
    with open(cfg, "w") as f:
        f.write('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "%s"\n\n[php.ini]\n"zend.assertions" = 1\n'
                % os.path.join(MY_APP, "public"))
    srv = Server("ephpm serve --config " + cfg, MY_APP, "my-app-assertions", listen_flag=False)
    executed.discard("ephpm serve --config " + cfg)
    status, _, body = http_get(srv.url("/health.php"))
    check("health page passes with zend.assertions=1 (the assert() line runs)",
          status == 200 and body == "ok (zend.assertions=1)\n", "%s %r" % (status, body[:300]))
    srv.stop()

    # `make demo`: build, composer install, serve examples/my-app in the foreground.
    env = dict(ENV, EPHPM_DEMO_LISTEN="127.0.0.1:0")
    srv = Server("make demo", ROOT, "make-demo", env=env, listen_flag=False)
    out = srv.output()
    check("make demo prints the curl hint", "curl http://" in out, out[-500:])
    status, _, body = http_get(srv.url("/"))
    check("make demo serves examples/my-app", body == "This page has been served 1 times.\n", repr(body))
    srv.stop()


# --- 2. examples/symfony-app ------------------------------------------------------------------------------------

def console(args, env=None, cmd_prefix="ephpm --config ephpm.toml php bin/console"):
    return run_readme(cmd_prefix + " " + args, SF_APP, env=env)


def profile(srv, token):
    """The profile of an earlier request. The profiler stores it in kernel.terminate, which runs after the response
    has been sent (in worker mode always), so the client may ask before it is written: poll for up to 10 s."""
    deadline = time.time() + 10
    while True:
        status, _, body = http_get(srv.url("/_cache-profile/" + token))
        if status != 404 or time.time() > deadline:
            try:
                return json.loads(body)
            except ValueError:
                return {"_status": status, "_body": body[:500]}
        time.sleep(0.05)


def test_symfony_app(mode):
    """The walk-through; mode "worker" runs it with ephpm.worker.toml copied over ephpm.toml (the switch is the
    config file only), plus the worker-only checks."""
    global LABEL
    toml = os.path.join(SF_APP, "ephpm.toml")
    saved = open(toml).read()
    if mode == "worker":
        shutil.copyfile(os.path.join(SF_APP, "ephpm.worker.toml"), toml)
        LABEL = "[worker] "
    try:
        symfony_walkthrough(mode)
    finally:
        with open(toml, "w") as f:
            f.write(saved)
        LABEL = ""


def symfony_walkthrough(mode):
    print("--- examples/symfony-app (README: Symfony framework integration), %s mode" % mode)
    sec = section(README, "Symfony framework integration")
    pkg_sec = section(PKG_README, "Symfony framework integration")
    check("README has the section 'Symfony framework integration'", sec != "")
    services = open(os.path.join(SF_APP, "config", "services.yaml")).read()
    framework = open(os.path.join(SF_APP, "config", "packages", "ephpm_framework.yaml")).read()
    bundles = open(os.path.join(SF_APP, "config", "bundles.php")).read()
    pkg_yaml = blocks(pkg_sec, "yaml")
    check("README shows the example's ephpm_framework.yaml and services.yaml, verbatim",
          framework in blocks(sec, "yaml") and services in blocks(sec, "yaml"))
    check("the example registers the bundle (config/bundles.php) and defines no adapter service of its own",
          "Ephpm\\Bundle\\EphpmBundle::class" in bundles and "EphpmKvAdapter" not in services + framework)
    check("README still documents cache-symfony/README.md's services.yaml and cache.yaml (without the bundle)",
          len(pkg_yaml) >= 2 and pkg_yaml[0] in blocks(sec, "yaml") and pkg_yaml[1] in blocks(sec, "yaml"))

    rc, out, err = run_readme("composer install", SF_APP)
    check("composer install (symfony-app)", rc == 0, err[-800:])
    # A stale compiled container from an older checkout would hide config changes: start from a clean var/.
    subprocess.run(["rm", "-rf", os.path.join(SF_APP, "var")], check=True)

    srv = Server("ephpm serve --config ephpm.toml", SF_APP, "symfony-prod-" + mode)
    m = re.search(r"kv store (/ephpm-[0-9]+-[0-9a-f]+)", srv.output())
    store_name = m.group(1) if m else "?"

    # First request computes, second is a hit (loader_calls counts the loader's runs, kept outside the pools).
    rc, out1, err = run_readme("curl http://127.0.0.1:8080/posts/1", SF_APP, srv.addr)
    rc, out2, err = run_readme("curl http://127.0.0.1:8080/posts/1", SF_APP, srv.addr)
    try:
        a, b = json.loads(out1), json.loads(out2)
    except ValueError:
        a, b = {"_body": out1[:500]}, {"_body": out2[:500]}
    check("first GET /posts/1 computes (loader_calls 1)", a.get("computed") is True and a.get("loader_calls") == 1, str(a))
    check("second GET /posts/1 is a hit (loader_calls still 1, same value)",
          b.get("computed") is False and b.get("loader_calls") == 1 and b.get("post") == a.get("post"), str(b))

    # Pools are isolated by namespace: the same key in cache.posts and cache.sessions are two items.
    p1 = get_json(srv.url("/pools/posts/k"))
    s1 = get_json(srv.url("/pools/sessions/k"))
    s2 = get_json(srv.url("/pools/sessions/k"))
    same = get_json(srv.url("/pools/posts/post.1"))
    check("key k in cache.posts computes", p1.get("computed") is True and p1.get("value") == "posts:k", str(p1))
    check("key k in cache.sessions computes its own value (pools do not share items)",
          s1.get("computed") is True and s1.get("value") == "sessions:k" and s1.get("loader_calls") == 1, str(s1))
    check("key k in cache.sessions is then a hit", s2.get("computed") is False and s2.get("loader_calls") == 1, str(s2))
    check("/posts/1 and /pools/posts/post.1 are the same item of cache.posts",
          same.get("computed") is False and same.get("value") == a.get("post"), str(same))

    # PSR-16 (Psr16Cache over cache.app).
    q1 = get_json(srv.url("/psr16/greeting"))
    q2 = get_json(srv.url("/psr16/greeting"))
    check("Psr16Cache consumer: miss then hit", q1.get("hit") is False and q2.get("hit") is True
          and q1.get("value") == q2.get("value"), "%s %s" % (q1, q2))

    # Console against the live server.
    rc, out, err = console("cache:pool:list")
    check("cache:pool:list lists cache.app, cache.posts, cache.sessions",
          rc == 0 and all(p in out for p in ("cache.app", "cache.posts", "cache.sessions")), out[-800:] + err[-400:])
    check("attached console prints no private-store notice", "private store" not in err, err[-400:])
    rc, out, err = run_readme("ephpm --config ephpm.toml php -i | grep 'KV arena'", SF_APP)
    check("ephpm php -i shows the server's store while it runs", ("KV arena => " + store_name) in out,
          "%r vs %s" % (out, store_name))

    rc, out, err = console("cache:pool:clear cache.posts")
    check("cache:pool:clear cache.posts succeeds", rc == 0 and "successfully cleared" in out, out[-600:] + err[-400:])
    c1 = get_json(srv.url("/posts/1"))
    check("after the console clear the server recomputes /posts/1 (loader_calls 3)",
          c1.get("computed") is True and c1.get("loader_calls") == 3, str(c1))
    p2 = get_json(srv.url("/pools/posts/k"))
    check("... and cache.posts key k (loader_calls 4)", p2.get("computed") is True and p2.get("loader_calls") == 4, str(p2))
    s3 = get_json(srv.url("/pools/sessions/k"))
    check("cache.sessions is untouched by clearing cache.posts", s3.get("computed") is False
          and s3.get("loader_calls") == 1, str(s3))
    q3 = get_json(srv.url("/psr16/greeting"))
    check("cache.app (PSR-16) is untouched too", q3.get("hit") is True, str(q3))

    rc, out, err = console("cache:pool:delete cache.posts post.1")
    check("cache:pool:delete cache.posts post.1 deletes the server's item",
          rc == 0 and 'successfully deleted' in out, out[-600:] + err[-400:])
    d1 = get_json(srv.url("/posts/1"))
    check("after the console delete the server recomputes /posts/1 (loader_calls 5)",
          d1.get("computed") is True and d1.get("loader_calls") == 5, str(d1))
    p3 = get_json(srv.url("/pools/posts/k"))
    check("other keys of cache.posts stay cached", p3.get("computed") is False and p3.get("loader_calls") == 5, str(p3))
    s4 = get_json(srv.url("/pools/sessions/k"))
    check("cache.sessions still untouched", s4.get("computed") is False and s4.get("loader_calls") == 1, str(s4))
    runtime_checks(srv, mode)
    session_lock_limiter_checks(srv, mode)
    if mode == "worker":
        memory_check(srv)
        sighup_check(srv)
    srv.stop()

    # Without a running server: a private store, and one line on stderr.
    cfg_abs = os.path.join(SF_APP, "ephpm.toml")
    notice = ("ephpm php: no running ephpm serve for %s; using a private store (changes will not reach a server)"
              % cfg_abs)
    rc, out, err = console("cache:pool:clear cache.posts")
    check("without a server: cache:pool:clear works on a private store", rc == 0 and "successfully cleared" in out,
          out[-400:] + err[-400:])
    check("without a server: the notice is printed once on stderr", err.count(notice) == 1, err[-600:])
    rc, out, err = console("cache:pool:delete cache.posts post.1")
    check("without a server: cache:pool:delete finds nothing in the private store, with the notice",
          rc == 0 and "does not exist" in out and notice in err, out[-400:] + err[-400:])
    rc, out, err = run_readme("EPHPM_CONFIG=ephpm.toml ephpm php bin/console cache:pool:clear cache.posts", SF_APP)
    check("without a server: EPHPM_CONFIG also counts as explicit (notice)", rc == 0 and notice in err, err[-400:])
    rc, out, err = run_readme("ephpm php bin/console cache:pool:clear cache.posts", SF_APP)
    check("without a server: an implicit ./ephpm.toml gives no notice", rc == 0 and "private store" not in err, err[-400:])
    rc, out, err = run_readme("ephpm --config ephpm.toml php -i | grep 'KV arena'", SF_APP)
    check("without a server: ephpm php -i shows a private arena", "KV arena => anonymous" in out, out)

    # A restart empties the store.
    srv = Server("ephpm serve --config ephpm.toml", SF_APP, "symfony-prod-restarted-" + mode)
    r = get_json(srv.url("/posts/1"))
    check("after a restart /posts/1 is computed again (loader_calls 1)",
          r.get("computed") is True and r.get("loader_calls") == 1, str(r))
    # With the implicit ./ephpm.toml the console attaches too.
    rc, out, err = run_readme("ephpm php bin/console cache:pool:delete cache.posts post.1", SF_APP)
    r2 = get_json(srv.url("/posts/1"))
    check("console with the implicit ./ephpm.toml also reaches the server", rc == 0 and "successfully deleted" in out
          and r2.get("computed") is True, out[-300:] + str(r2))
    srv.stop()

    # Dev mode: the profiler's cache collector (TraceableAdapter) sees the miss and the hit.
    dev_env = dict(ENV, APP_ENV="dev")
    rc, out, err = run_readme("APP_ENV=dev ephpm php bin/console debug:container cache.posts", SF_APP)
    check("dev: cache.posts is a TraceableAdapter", rc == 0 and "TraceableAdapter" in out, out[-600:] + err[-400:])
    rc, out, err = console("debug:container cache.posts", cmd_prefix="ephpm php bin/console")
    check("prod: cache.posts is the bundle's EphpmPoolAdapter itself",
          rc == 0 and "Ephpm\\Bundle\\Cache\\EphpmPoolAdapter" in out, out[-600:])
    srv = Server("APP_ENV=dev ephpm serve --config ephpm.toml", SF_APP, "symfony-dev-" + mode, env=dev_env)
    stats = []
    for _ in range(2):
        status, headers, body = http_get(srv.url("/posts/7"))
        token = {k.lower(): v for k, v in headers.items()}.get("x-debug-token", "")
        prof = profile(srv, token) if token else {}
        stats.append(prof.get("pools", {}).get("cache.posts", {}))
    check("dev: profiler records a miss (and a write) on the first request",
          stats[0].get("misses") == 1 and stats[0].get("hits") == 0 and stats[0].get("writes") == 1, str(stats[0]))
    check("dev: profiler records a hit on the second request",
          stats[1].get("hits") == 1 and stats[1].get("misses") == 0 and stats[1].get("writes") == 0, str(stats[1]))
    # Pool namespaces depend on the environment: a prod console does not clear a dev server's pool, a dev one does.
    rc, out, err = console("cache:pool:clear cache.posts")
    r1 = get_json(srv.url("/posts/7"))
    check("dev server: a prod console's clear leaves the dev pool alone", rc == 0 and r1.get("computed") is False, str(r1))
    rc, out, err = console("cache:pool:clear cache.posts", env=dev_env)
    r2 = get_json(srv.url("/posts/7"))
    check("dev server: a dev console's clear reaches it", rc == 0 and r2.get("computed") is True, str(r2) + err[-300:])
    srv.stop()


def runtime_checks(srv, mode):
    """Which runner served (/runtime) and per-request state in a service (/visitor), in both modes."""
    runs = [get_json(srv.url("/runtime")) for _ in range(20)]
    by_pid = {}
    for r in runs:
        by_pid.setdefault(r.get("pid"), []).append(r.get("kernel_requests"))
    if mode == "worker":
        check("worker mode: ephpm/symfony-runtime's runner serves (APP_RUNTIME_MODE has worker=1)",
              all(r.get("worker_mode") is True for r in runs), str(runs[:2]))
        check("worker mode: each worker's kernel counts its requests up (booted once, not per request)",
              all(c == sorted(c) and len(set(c)) == len(c) for c in by_pid.values())
              and max(len(c) for c in by_pid.values()) >= 2 and max(max(c) for c in by_pid.values()) >= 10,
              str(by_pid))
    else:
        check("classic mode: Symfony's own runner, a kernel per request",
              all(r.get("worker_mode") is False and r.get("kernel_requests") == 1 for r in runs), str(runs[:2]))
    first = get_json(srv.url("/visitor?name=alice"))
    later = [get_json(srv.url("/visitor")) for _ in range(6)]
    check("a service holding per-request state (Visitor) starts empty", first.get("previous") is None
          and first.get("name") == "alice", str(first))
    check("... and alice never leaks into the next requests (reset after every response)",
          all(r.get("previous") is None and r.get("name") is None for r in later), str(later))


def concurrent_gets(srv, paths, headers=None, stagger=0.2):
    """GETs of `paths` at once, each on its own connection, the next one started `stagger` s after the previous (so
    the first is inside PHP when the second arrives, and accept balancing hands the second to the other worker).
    Returns [(status, headers, body)] in the order of `paths`."""
    import threading
    results = [None] * len(paths)

    def one(i):
        req = urllib.request.Request(srv.url(paths[i]), headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                results[i] = (r.status, dict(r.headers), r.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as e:
            results[i] = (e.code, dict(e.headers), e.read().decode("utf-8", "replace"))
        except OSError as e:
            results[i] = (0, {}, repr(e))

    threads = []
    for i in range(len(paths)):
        threads.append(threading.Thread(target=one, args=(i,)))
        threads[-1].start()
        time.sleep(stagger)
    for t in threads:
        t.join()
    return results


def json_of(result):
    try:
        return json.loads(result[2])
    except ValueError:
        return {"_status": result[0], "_body": result[2][:500]}


def session_lock_limiter_checks(srv, mode):
    """The bundle's session handler, lock store and rate limiter, end to end (workers = 2 in both config files)."""
    # Sessions: two concurrent requests of one session both keep their update (the second waits for the first).
    status, headers, body = http_get(srv.url("/session/incr"))
    set_cookie = {k.lower(): v for k, v in headers.items()}.get("set-cookie", "")
    m = re.match(r"\s*([^=;\s]+=[^;\s]+)", set_cookie)
    first = json_of((status, headers, body))
    check("session: the first /session/incr counts 1 and sets the session cookie",
          first.get("count") == 1 and m is not None, "%s %r" % (first, set_cookie))
    cookie = {"Cookie": m.group(1)} if m else {}
    both = [json_of(r) for r in concurrent_gets(srv, ["/session/incr?sleep_ms=500"] * 2, headers=cookie)]
    after = json_of(concurrent_gets(srv, ["/session/incr"], headers=cookie)[0])
    check("session: two concurrent requests of one session, on two workers, both keep their update (2, 3, then 4)",
          sorted(r.get("count", 0) for r in both) == [2, 3] and after.get("count") == 4
          and both[0].get("pid") != both[1].get("pid"), "%s then %s" % (both, after))
    other = json_of(concurrent_gets(srv, ["/session/incr"])[0])
    check("session: a request without the cookie gets a new session (count 1)", other.get("count") == 1, str(other))

    # Locks: two concurrent holders of one lock are never inside together; without the lock they are.
    name = "walkthrough-" + mode
    held = [json_of(r) for r in concurrent_gets(srv, ["/lock/%s?hold_ms=500" % name] * 2)]
    check("lock: two concurrent blocking holders on two workers, never both inside (peak 1)",
          all(r.get("locked") is True and r.get("inside") == 1 for r in held) and held[1].get("peak") == 1
          and held[0].get("pid") != held[1].get("pid"), str(held))
    loose = [json_of(r) for r in concurrent_gets(srv, ["/lock/%s-unlocked?hold_ms=500&lock=0" % name] * 2)]
    check("lock: the same two requests without the lock are inside together (peak 2: the count sees overlaps)",
          max(r.get("peak", 0) for r in loose) == 2 and all(r.get("locked") is False for r in loose), str(loose))

    # Rate limiter: 10 per minute for the whole server, the 11th is refused.
    statuses = [http_get(srv.url("/limited"))[0] for _ in range(11)]
    status, headers, body = http_get(srv.url("/limited"))
    check("rate limiter: 10 requests of /limited accepted, the 11th gets 429", statuses == [200] * 10 + [429], str(statuses))
    check("rate limiter: a refused request says when to retry",
          status == 429 and int({k.lower(): v for k, v in headers.items()}.get("retry-after", "0")) >= 1,
          "%s %s" % (status, headers))


def worker_pids(srv):
    out = subprocess.run(["pgrep", "-P", str(srv.proc.pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def rss_mib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except FileNotFoundError:
        pass
    return None


def hammer(addr, path, total, connections=4):
    """`total` GETs of `path` over `connections` keep-alive connections; returns the statuses seen (a Counter)."""
    import collections
    import http.client
    import threading
    host, port = addr.split(":")
    statuses = collections.Counter()
    lock = threading.Lock()

    def worker(n):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        seen = collections.Counter()
        for _ in range(n):
            try:
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                seen[r.status] += 1
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection(host, int(port), timeout=30)
            except (OSError, http.client.HTTPException) as e:
                seen[type(e).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.close()
        with lock:
            statuses.update(seen)

    threads = [threading.Thread(target=worker, args=(total // connections,)) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


MEMORY_REQUESTS = 10000
MEMORY_LIMIT_MIB = 64


def memory_check(srv):
    """RSS of every worker process after a warm-up and after 10,000 more requests of /posts/1 (worker mode)."""
    hammer(srv.addr, "/posts/1", 1000)
    before = {pid: rss_mib(pid) for pid in worker_pids(srv)}
    t0 = time.time()
    statuses = hammer(srv.addr, "/posts/1", MEMORY_REQUESTS)
    secs = time.time() - t0
    after = {pid: rss_mib(pid) for pid in worker_pids(srv)}
    growth = {pid: after[pid] - before[pid] for pid in before if before[pid] is not None and after.get(pid) is not None}
    report = ", ".join("worker %d: %.1f -> %.1f MiB (%+.1f)" % (pid, before[pid], after[pid], g)
                       for pid, g in sorted(growth.items()))
    print("memory over %d requests of /posts/1 in %.1f s: %s" % (MEMORY_REQUESTS, secs, report))
    check("memory: %d requests of /posts/1 all answered 200" % MEMORY_REQUESTS,
          statuses.get(200) == MEMORY_REQUESTS, str(statuses))
    check("memory: the same worker processes before and after (no crash, no recycling)",
          set(before) == set(after) and len(growth) == len(before) >= 1, "%s vs %s" % (before, after))
    check("memory: RSS growth per worker over %d requests < %d MiB (%s)" % (MEMORY_REQUESTS, MEMORY_LIMIT_MIB, report),
          bool(growth) and max(growth.values()) < MEMORY_LIMIT_MIB, report)


def sighup_check(srv):
    """The deploy path: SIGHUP replaces the workers one at a time while two clients keep requesting /runtime; every
    request is answered, and the new workers serve from new kernels."""
    import collections
    import http.client
    import threading
    before = set(worker_pids(srv))
    stop = threading.Event()
    statuses = collections.Counter()
    lock = threading.Lock()
    host, port = srv.addr.split(":")

    def client():
        # A retiring worker closes its idle keep-alive connections; a request sent on one at that moment gets no
        # answer, and HTTP clients retry such an idempotent request once on a new connection (RFC 9112 section
        # 9.3.1), as this one does. Counted as "retried"; a request that fails on a fresh connection is a failure.
        seen = collections.Counter()
        conn, reused = http.client.HTTPConnection(host, int(port), timeout=30), False
        while not stop.is_set():
            try:
                conn.request("GET", "/runtime")
                r = conn.getresponse()
                r.read()
                seen[r.status] += 1
                reused = True
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn, reused = http.client.HTTPConnection(host, int(port), timeout=30), False
            except (OSError, http.client.HTTPException) as e:
                seen["retried" if reused and isinstance(e, (http.client.RemoteDisconnected, ConnectionResetError,
                                                             BrokenPipeError)) else type(e).__name__] += 1
                conn.close()
                conn, reused = http.client.HTTPConnection(host, int(port), timeout=30), False
        conn.close()
        with lock:
            statuses.update(seen)

    threads = [threading.Thread(target=client) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    os.kill(srv.proc.pid, signal.SIGHUP)
    replaced = False
    deadline = time.time() + 60
    while time.time() < deadline:
        now = set(worker_pids(srv))
        if now and not (now & before):
            replaced = True
            break
        time.sleep(0.05)
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    fresh = get_json(srv.url("/runtime"))
    total = sum(statuses.values())
    check("SIGHUP under load: every worker replaced, all %d requests during the restart answered 200 (%d retried "
          "after an idle keep-alive close)" % (total, statuses.get("retried", 0)),
          replaced and total > 0 and statuses.get(200, 0) + statuses.get("retried", 0) == total
          and statuses.get(200, 0) > 0, str(statuses))
    check("SIGHUP: the new workers boot the app afresh (a new kernel, worker mode)",
          fresh.get("worker_mode") is True and fresh.get("pid") not in before, str(fresh))


# --- 3. every README command of the covered sections was run ----------------------------------------------------

# Lines of the README's ```sh blocks that the harness performs itself instead of running them verbatim.
HARNESS_LINES = {
    "make build": "scripts/suites/60-examples.sh builds first (scripts/build.sh release)",
    'export PATH="$PWD/build/runtime:$PATH"': "the harness puts build/runtime on PATH",
    "cd examples/my-app": "commands run with cwd = examples/my-app",
    "cd examples/symfony-app": "commands run with cwd = examples/symfony-app",
    "curl -si http://127.0.0.1:8080/posts/1 | grep -i x-debug-token": "done with urllib (reads X-Debug-Token)",
    "curl http://127.0.0.1:8080/_cache-profile/TOKEN": "done with urllib for each token",
}


def test_readme_commands_ran():
    print("--- every command of the README sections was run")
    for heading in ("End-to-end: a fresh PHP project", "Symfony framework integration"):
        for line in command_lines(section(README, heading)):
            check("README command ran: " + line, line in executed or line in HARNESS_LINES)


def main():
    try:
        test_attach()
        test_my_app()
        test_symfony_app("classic")
        test_symfony_app("worker")
        test_readme_commands_ran()
    except Exception as e:  # noqa: BLE001 - report, then clean up below
        failures.append("exception: %r" % e)
        print("FAIL exception: %r" % e)
        for s in list(servers):
            print("--- %s output:\n%s" % (s.name, s.output()[-3000:]))
    finally:
        for s in list(servers):
            s.stop()
    print("examples: %d passed, %d failed" % (passed, len(failures)))
    for f in failures:
        print("  failed: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
