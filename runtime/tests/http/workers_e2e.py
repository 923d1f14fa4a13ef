#!/usr/bin/env python3
"""End-to-end tests of `ephpm serve` with worker processes ([php] workers / max_requests).

Usage: workers_e2e.py path/to/ephpm [-k substring]

Each test starts its own server (listen port 0) on a copy of runtime/tests/http/fixtures/public
and stops it by pid. Which worker answered is read from PHP's getmypid() (fixtures worker.php and
waitfor.php); worker processes are the children of the master in /proc. Prints
`N passed, M failed` and exits non-zero on failure.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402  (the raw HTTP client, the Server wrapper, the test runner)
from e2e import KeepAliveLoad, Server, check, eq, get  # noqa: E402

SUITE = e2e.Suite()
test, CTX = SUITE.test, SUITE.ctx


def config(workers=2, max_requests=None, extra_php="", max_execution_time=10, extra_kv=""):
    text = ('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "%s"\n'
            '[php]\nmax_execution_time = %d\n' % (CTX.docroot, max_execution_time))
    if workers is not None:
        text += "workers = %d\n" % workers
    if max_requests is not None:
        text += "max_requests = %d\n" % max_requests
    text += extra_php
    text += '[kv]\nmemory_limit = "16MB"\n' + extra_kv + '[log]\nlevel = "info"\n'
    return text


def start(name, **kw):
    return SUITE.start(name, config(**kw))


def children(pid):
    """Pids whose parent is pid (the worker processes of a master)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(d))
    return sorted(out)


def wait_for(cond, timeout, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1].split()[0] != "Z"
    except OSError:
        return False


def wjson(port, query, timeout=15):
    r = get(port, "/worker.php?" + query, timeout=timeout)
    eq(r.status, 200, "status of worker.php?" + query)
    return r.json()


class Load:
    """Threads sending requests (one connection each) until stopped; records every outcome."""

    def __init__(self, port, query, threads=4):
        self.port = port
        self.query = query
        self.ok = []      # (time, json)
        self.errors = []  # (time, repr)
        self.lock = threading.Lock()
        self.stop_flag = False
        self.threads = [threading.Thread(target=self.run) for _ in range(threads)]

    def run(self):
        while not self.stop_flag:
            try:
                r = get(self.port, "/worker.php?" + self.query, timeout=20)
                if r.status != 200:
                    raise RuntimeError("status %d" % r.status)
                with self.lock:
                    self.ok.append((time.time(), r.json()))
            except Exception as e:  # noqa
                with self.lock:
                    self.errors.append((time.time(), repr(e)))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *a):
        self.stop_flag = True
        for t in self.threads:
            t.join()


# ------------------------------------------------------------------------------------------------


@test
def default_workers_is_cpu_count(p):
    srv = start("default", workers=None)
    try:
        n = os.cpu_count()
        got = wait_for(lambda: len(children(srv.proc.pid)) == n and children(srv.proc.pid), 5)
        eq(len(children(srv.proc.pid)), n, "worker processes with the default (one per CPU)")
        eq(get(srv.port, "/hello.php").body, b"Hello, world!\n", "serving")
        check(got, "children")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def workers_1_is_single_process(p):
    srv = start("single", workers=1)
    try:
        eq(children(srv.proc.pid), [], "no worker processes with workers = 1")
        eq(wjson(srv.port, "x=1")["pid"], srv.proc.pid, "PHP runs in the serve process itself")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def worker_php_thread_has_a_64mb_stack(p):
    srv = start("stack", workers=2)
    try:
        r = get(srv.port, "/deep.php?n=30000", timeout=30)
        eq((r.status, r.body), (200, b"30000\n"), "deep recursion in a worker (main thread, RLIMIT_STACK 64 MiB)")
        check("SIGSEGV" not in srv.stderr(), "no worker crashed")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def two_sleeps_run_in_parallel(p):
    srv = start("parallel", workers=2)
    try:
        wait_for(lambda: len(children(srv.proc.pid)) == 2, 5)
        # A forked worker accepts a few milliseconds after it exists: a round in which one worker
        # took both connections is repeated, not failed.
        rounds = []
        for _ in range(5):
            res = {}

            def one(i):
                res[i] = wjson(srv.port, "sleep=0.5")["pid"]

            t0 = time.time()
            ts = [threading.Thread(target=one, args=(i,)) for i in range(2)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            took = time.time() - t0
            check(len(res) == 2, "both answered")
            rounds.append((round(took, 2), len(set(res.values()))))
            if len(set(res.values())) == 2 and took < 0.8:
                break
            time.sleep(0.2)
        took, workers = rounds[-1]
        check(workers == 2 and took < 0.8,
              "two 500 ms sleeps in two different workers in ~0.5 s (not 1 s); rounds (s, workers): %r"
              % rounds)
        print("    two 500 ms sleeps: %.3f s" % took)
    finally:
        eq(srv.stop(), 0, "exit code")


def until_every_worker_serves(srv, workers):
    """Waits until `workers` different workers answer concurrent requests: `serve` prints its URL
    once the master listens, before the forked workers accept (a burst sent then finds one
    worker, which takes every connection: none is idle to step back for)."""
    pids = set()
    deadline = time.time() + 20
    while len(pids) < workers and time.time() < deadline:
        res = []
        ts = [threading.Thread(target=lambda: res.append(wjson(srv.port, "sleep=0.2")["pid"]))
              for _ in range(workers)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        pids |= set(res)
    eq(len(pids), workers, "workers answering before the test")


@test
def counter_200_concurrent(p):
    srv = start("counter", workers=2)
    try:
        until_every_worker_serves(srv, 2)
        key = "c200-%d" % os.getpid()
        values, pids, errors = [], set(), []
        lock = threading.Lock()
        barrier = threading.Barrier(200)

        def one():
            try:
                barrier.wait(10)
                j = wjson(srv.port, "incr=" + key, timeout=30)
                with lock:
                    values.append(j["n"])
                    pids.add(j["pid"])
            except Exception as e:  # noqa
                with lock:
                    errors.append(repr(e))

        ts = [threading.Thread(target=one) for _ in range(200)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        eq(errors, [], "errors")
        eq(sorted(values), list(range(1, 201)), "responses are exactly 1..200")
        eq(wjson(srv.port, "get=" + key)["v"], "200", "final counter")
        check(len(pids) >= 2, "served by %d worker(s)" % len(pids))
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def kv_wait_woken_by_another_worker(p):
    srv = start("wait", workers=2)
    try:
        wait_for(lambda: len(children(srv.proc.pid)) == 2, 5)
        key = "w-%d" % os.getpid()
        res = {}

        def waiter():
            res["r"] = get(srv.port, "/waitfor.php?ms=8000&key=" + key, timeout=20)

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.5)
        setter = wjson(srv.port, "set=%s&value=woken" % key)
        t.join()
        w = res["r"].json()
        check(w["result"] is not False, "wait returned false (not woken): %r" % w)
        eq(w["result"]["value"], "woken", "value seen by the waiter")
        check(w["pid"] != setter["pid"], "waiter and writer ran in different workers")
        check(w["waited"] < 2.0, "woken after %.2f s" % w["waited"])
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def compressed_value_written_by_one_worker_read_by_another(p):
    srv = start("compress", workers=2, extra_kv='compression = "zstd"\n')
    try:
        wait_for(lambda: len(children(srv.proc.pid)) == 2, 5)
        key = "z-%d" % os.getpid()
        value = "".join("<td>row %d</td>" % (i % 30) for i in range(200))  # ~3 KB, compressible
        setter = wjson(srv.port, "set=%s&value=%s" % (key, urllib.parse.quote(value)))
        eq(setter.get("set"), True, "set through one worker")
        other = None
        for _ in range(200):
            j = wjson(srv.port, "get=%s&stats=1" % key)
            if j["pid"] != setter["pid"]:
                other = j
                break
        check(other is not None, "a request served by the other worker")
        if other:
            eq(other["v"], value, "the other worker reads the original bytes")
            check(other["stats"]["bytes_saved"] > 2000,
                  "stored compressed: bytes_saved %d" % other["stats"]["bytes_saved"])
            eq(other["stats"]["decode_errors"], 0, "no decode error")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def kill9_busy_worker_loop(p):
    srv = start("kill", workers=2)
    try:
        master = srv.proc.pid
        wait_for(lambda: len(children(master)) == 2, 5)
        key = "k9-%d" % os.getpid()
        killed = []
        respawn_times = []
        with Load(srv.port, "sleep=0.02&incr=" + key, threads=4) as load:
            time.sleep(0.5)
            for _ in range(5):
                with load.lock:
                    recent = [j["pid"] for _, j in load.ok[-8:]]
                victims = [pid for pid in recent if alive(pid) and pid in children(master)]
                check(victims, "a busy worker to kill (recent pids %r)" % recent)
                victim = victims[-1]
                before = set(children(master))
                t0 = time.time()
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
                new = wait_for(lambda: (set(children(master)) - before) or None, 3, 0.005)
                check(new, "no respawn after kill -9 of %d" % victim)
                respawn_times.append(time.time() - t0)
                check(wait_for(lambda: len(children(master)) == 2, 3), "back to 2 workers")
                time.sleep(1.1)  # longer than a quick failure: not a crash loop
        ok, errors = load.ok, load.errors
        check(srv.alive(), "master alive")
        values = [j["n"] for _, j in ok]
        eq(len(values), len(set(values)), "no counter value handed out twice")
        final = int(wjson(srv.port, "get=" + key)["v"])
        check(len(ok) <= final <= len(ok) + len(errors),
              "final counter %d within [%d, %d]" % (final, len(ok), len(ok) + len(errors)))
        times = sorted(t for t, _ in ok)
        gap = max(b - a for a, b in zip(times, times[1:]))
        check(gap < 1.0, "the server kept answering (largest gap between answers %.2f s)" % gap)
        check(len(errors) <= 5 * 4, "at most the in-flight requests of killed workers failed: %d errors %r"
              % (len(errors), errors[:3]))
        check(max(respawn_times) < 1.0, "respawned within a second: %r" % respawn_times)
        log = srv.stderr()
        eq(len(re.findall(r"killed by signal 9 \(SIGKILL\)", log)), 5, "crashes logged")
        eq(wjson(srv.port, "set=after-%s&value=ok" % key)["set"], True, "store writable")
        eq(wjson(srv.port, "get=after-%s" % key)["v"], "ok", "store readable")
        print("    %d answers, %d failed (killed in flight), respawn %.0f-%.0f ms, final counter %d"
              % (len(ok), len(errors), min(respawn_times) * 1000, max(respawn_times) * 1000, final))
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def crash_loop_is_throttled(p):
    srv = start("loop", workers=2)
    try:
        master = srv.proc.pid
        wait_for(lambda: len(children(master)) == 2, 5)
        first = children(master)
        victim = first[0]
        seen = set(first)
        for _ in range(6):  # kill the replacement as soon as it appears: quick failures in a row
            os.kill(victim, signal.SIGKILL)
            new = wait_for(lambda: (set(children(master)) - seen) or None, 8, 0.002)
            check(new, "respawned eventually")
            seen |= new
            victim = sorted(new)[0]
        log = srv.stderr()
        check("crash loop" in log, "crash loop logged:\n" + log[-1500:])
        check(srv.alive(), "master alive")
        check(wait_for(lambda: len(children(master)) == 2, 12), "slot refilled after the back-off")
        eq(get(srv.port, "/hello.php").status, 200, "serving")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def sighup_rolling_restart_keeps_store_and_requests(p):
    srv = start("hup", workers=2)
    try:
        master = srv.proc.pid
        wait_for(lambda: len(children(master)) == 2, 5)
        old = set(children(master))
        key = "hup-%d" % os.getpid()
        eq(wjson(srv.port, "set=%s&value=kept" % key)["set"], True, "set before SIGHUP")
        with Load(srv.port, "sleep=0.01&incr=c" + key, threads=4) as load:
            time.sleep(0.5)
            os.kill(master, signal.SIGHUP)
            check(wait_for(lambda: not (set(children(master)) & old) and len(children(master)) == 2, 10),
                  "all workers replaced: %r -> %r" % (old, children(master)))
            time.sleep(0.5)
        eq(load.errors, [], "requests failed during the rolling restart")
        values = [j["n"] for _, j in load.ok]
        eq(sorted(values), list(range(1, len(values) + 1)), "counter continuous across the restart")
        pids = [j["pid"] for _, j in sorted(load.ok, key=lambda x: x[0])]
        check(set(pids) & old and set(pids) - old, "answers from old and new workers")
        eq(wjson(srv.port, "get=" + key)["v"], "kept", "store kept")
        print("    %d requests during SIGHUP, 0 failed" % len(values))
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def sighup_keepalive_load_no_failed_request(p):
    # 8 keep-alive clients during 3 rolling restarts: a draining worker answers the next request
    # on each connection with Connection: close and closes a connection only once it has been
    # idle, so no request is sent into a closing connection.
    srv = start("hup-ka", workers=2)
    try:
        master = srv.proc.pid
        wait_for(lambda: len(children(master)) == 2, 5)
        with KeepAliveLoad(srv.port, "/worker.php?sleep=0.005", conns=8) as load:
            load.wait_until_all_answered()
            for i in range(3):
                old = set(children(master))
                os.kill(master, signal.SIGHUP)
                check(wait_for(lambda: not (set(children(master)) & old)
                               and len(children(master)) == 2, 20),
                      "SIGHUP %d: all workers replaced: %r -> %r" % (i + 1, old, children(master)))
            time.sleep(0.3)
        eq(load.errors, [], "requests failed during 3 rolling restarts (%s)" % load.summary())
        check(load.closes >= 8, "connections were closed with Connection: close: " + load.summary())
        print("    3 SIGHUPs: " + load.summary())
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def max_requests_keepalive_load_no_failed_request(p):
    srv = start("recycle-ka", workers=2, max_requests=40)
    try:
        with KeepAliveLoad(srv.port, "/worker.php", conns=8) as load:
            deadline = time.time() + 20
            while time.time() < deadline and srv.stderr().count("recycled after") < 6:
                time.sleep(0.05)
        recycled = srv.stderr().count("recycled after")
        check(recycled >= 6, "workers recycled under load: %d" % recycled)
        eq(load.errors, [], "requests failed while workers were recycled (%s)" % load.summary())
        print("    %d recycles: %s" % (recycled, load.summary()))
    finally:
        eq(srv.stop(), 0, "exit code")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@test
def master_sigkill_takes_workers_down_then_restart_works(p):
    port = free_port()
    name = "orphan"
    srv = Server(CTX.binary, CTX.workdir, config(workers=2).replace("127.0.0.1:0", "127.0.0.1:%d" % port),
                 name)
    srv.start()
    try:
        master = srv.proc.pid
        wait_for(lambda: len(children(master)) == 2, 5)
        workers = children(master)
        with e2e.KeepAliveLoad(srv.port, "/worker.php?sleep=0.01", conns=4) as load:
            load.wait_until_all_answered()
            os.kill(master, signal.SIGKILL)
            srv.proc.wait(5)
            t0 = time.time()
            gone = wait_for(lambda: not any(alive(w) for w in workers), 5)
            took = time.time() - t0
        check(gone, "workers still alive 5 s after the master's SIGKILL: %r" % [w for w in workers if alive(w)])
        check(took < 2.0, "workers gone %.2f s after the master (expected < 2 s)" % took)
        check("master (pid %d) is gone" % master in srv.stderr(), "workers logged the master's death")
        # The same config again: same port, the store left behind by the dead master is replaced.
        again = Server(CTX.binary, CTX.workdir, "", name + "-again")
        again.config = srv.config
        again.start()
        try:
            eq(again.port, port, "restarted on the same port")
            key = "orphan-%d" % os.getpid()
            eq(wjson(port, "set=%s&value=fresh" % key)["set"], True, "the new server serves")
            cli = subprocess.run([CTX.binary, "--config", srv.config, "php", "-r",
                                  "echo ephpm_kv_get('%s');" % key],
                                 capture_output=True, timeout=30)
            eq((cli.returncode, cli.stdout), (0, b"fresh"),
               "ephpm php attached to the new server's store (stderr %r)" % cli.stderr)
        finally:
            eq(again.stop(), 0, "exit code of the restarted server")
        print("    workers gone %.2f s after SIGKILL of the master; %s" % (took, load.summary()))
    finally:
        srv.stop(signal.SIGKILL)


@test
def master_crash_is_logged_and_takes_workers_down(p):
    srv = start("crash", workers=2)
    try:
        master = srv.proc.pid
        wait_for(lambda: len(children(master)) == 2, 5)
        workers = children(master)
        os.kill(master, signal.SIGSEGV)
        rc = srv.proc.wait(5)
        eq(rc, -signal.SIGSEGV, "the master died of SIGSEGV")
        check(re.search(r"master %d: fatal signal 11 \(SIGSEGV\)" % master, srv.stderr()),
              "the master's crash logged: " + srv.stderr()[-800:])
        check(wait_for(lambda: not any(alive(w) for w in workers), 3), "workers gone")
    finally:
        srv.stop(signal.SIGKILL)


@test
def sigterm_cancels_kv_wait_in_workers(p):
    srv = start("drain-wait", workers=2, max_execution_time=0)
    res = {}

    def waiter():
        try:
            res["r"] = get(srv.port, "/waitfor.php?ms=60000&key=dw-%d" % os.getpid(), timeout=60)
        except Exception as e:  # noqa
            res["e"] = e

    t = threading.Thread(target=waiter)
    t.start()
    try:
        time.sleep(0.5)
        t0 = time.time()
        os.kill(srv.proc.pid, signal.SIGTERM)
        rc = srv.proc.wait(40)
        took = time.time() - t0
        t.join()
        check("r" in res, "the waiting request failed: %r" % res.get("e"))
        eq(res["r"].json()["result"], False, "ephpm_kv_wait returned false")
        eq(rc, 0, "exit code after SIGTERM")
        check(took < 3, "the drain ended the wait: exit %.2f s after SIGTERM" % took)
    finally:
        srv.stop(signal.SIGKILL)


@test
def max_requests_recycles(p):
    srv = start("recycle", workers=1, max_requests=5)
    try:
        key = "rec-%d" % os.getpid()
        got = [wjson(srv.port, "incr=" + key) for _ in range(17)]
        pids = [j["pid"] for j in got]
        eq([j["n"] for j in got], list(range(1, 18)), "counter (store survives recycling)")
        runs = [len(list(g)) for _, g in __import__("itertools").groupby(pids)]
        # A worker stops accepting after its 5th request; a connection it had already accepted
        # (the client reconnects at once) is still served, so a worker may answer one more.
        check(len(runs) >= 3 and all(5 <= r <= 6 for r in runs[:-1]),
              "each worker recycled after max_requests (5) requests: runs %r" % runs)
        check(srv.proc.pid not in pids, "PHP runs in a worker, not the master")
        check("recycled" in srv.stderr(), "recycling logged")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def sigterm_drains_all_workers_exit_0(p):
    srv = start("term", workers=2)
    master = srv.proc.pid
    wait_for(lambda: len(children(master)) == 2, 5)
    workers = children(master)
    res = {}

    def slow(i):
        try:
            res[i] = get(srv.port, "/worker.php?sleep=1.2", timeout=20)
        except Exception as e:  # noqa
            res[i] = e

    ts = [threading.Thread(target=slow, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    time.sleep(0.4)
    os.kill(master, signal.SIGTERM)
    for t in ts:
        t.join()
    rc = srv.proc.wait(30)
    for i in range(2):
        check(not isinstance(res[i], Exception), "in-flight request %d failed: %r" % (i, res[i]))
        eq(res[i].status, 200, "in-flight request completed")
    eq(rc, 0, "exit code after SIGTERM")
    check(not any(alive(w) for w in workers), "workers gone")


@test
def sigquit_stops_at_once(p):
    srv = start("quit", workers=2)
    master = srv.proc.pid
    wait_for(lambda: len(children(master)) == 2, 5)
    workers = children(master)
    res = {}

    def slow():
        try:
            res["r"] = get(srv.port, "/worker.php?sleep=5", timeout=20)
        except Exception as e:  # noqa
            res["r"] = e

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.4)
    t0 = time.time()
    os.kill(master, signal.SIGQUIT)
    rc = srv.proc.wait(10)
    took = time.time() - t0
    t.join()
    check(took < 1.5, "SIGQUIT took %.2f s" % took)
    check(isinstance(res["r"], Exception), "the 5 s request was cut off: %r" % res["r"])
    eq(rc, 0, "exit code after SIGQUIT")
    check(not any(alive(w) for w in workers), "workers gone")


# ------------------------------------------------------------------------------------------------


def setup():
    CTX.docroot = os.path.join(CTX.workdir, "public")
    shutil.copytree(e2e.FIXTURES, CTX.docroot, symlinks=True)


if __name__ == "__main__":
    SUITE.main(setup)
