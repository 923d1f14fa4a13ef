#!/usr/bin/env python3
"""The native session save handler `ephpm` under `ephpm serve` (fixture fixtures/sessions/session.php).

Usage: sessions_e2e.py path/to/ephpm [-k substring]

Strict mode over cookies, concurrent requests of one session on two workers (both updates kept, the
second request waits for the first), and a holder killed with SIGKILL (the next request gets the
session once the dead-man lock TTL has passed). Each test starts its own server and stops it by pid.
Prints `N passed, M failed`.
"""
import os
import re
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402
from e2e import Server, check, eq, get  # noqa: E402

SUITE = e2e.Suite()
test, CTX = SUITE.test, SUITE.ctx
LOCK_TTL = 2


def start(name, workers=2):
    text = ('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "%s"\n'
            '[php]\nmax_execution_time = 30\nworkers = %d\n'
            '[php.ini]\n"session.save_handler" = "ephpm"\n"session.use_strict_mode" = 1\n'
            '"ephpm.session_lock_ttl" = %d\n"ephpm.session_lock_wait" = 20\n'
            '[kv]\nmemory_limit = "16MB"\n' % (CTX.docroot, workers, LOCK_TTL))
    srv = Server(CTX.binary, CTX.workdir, text, name)
    srv.start()
    return srv


def call(port, query, sid=None, timeout=30):
    headers = {"Cookie": "PHPSESSID=" + sid} if sid else None
    r = get(port, "/session.php?" + query, headers=headers, timeout=timeout)
    eq(r.status, 200, "status of session.php?" + query)
    return r, r.json()


def new_session(port):
    r, body = call(port, "op=incr")
    check(body["started"], "session started: %r" % body)
    cookie = r.header("Set-Cookie") or ""
    m = re.match(r"PHPSESSID=([^;]+)", cookie)
    check(m is not None, "Set-Cookie with the session id: %r" % cookie)
    eq(m.group(1), body["id"])
    return body["id"]


@test
def strict_mode_replaces_a_forged_cookie(_):
    srv = start("strict")
    try:
        r, body = call(srv.port, "op=incr", sid="forgedid0123456789abcdef")
        eq(body["handler"], "ephpm")
        check(body["id"] != "forgedid0123456789abcdef", "a forged id is replaced")
        eq(body["n"], 1)
        check("PHPSESSID=%s" % body["id"] in (r.header("Set-Cookie") or ""), "new id sent as a cookie")
        _, again = call(srv.port, "op=incr", sid=body["id"])
        eq(again["id"], body["id"], "a real id is kept")
        eq(again["n"], 2)
    finally:
        srv.stop()


@test
def concurrent_requests_of_one_session_keep_both_updates(_):
    srv = start("concurrent", workers=2)
    try:
        sid = new_session(srv.port)
        results = []

        def one():
            t0 = time.time()
            _, body = call(srv.port, "op=incr&sleep_ms=400", sid=sid)
            results.append((time.time() - t0, body))

        threads = [threading.Thread(target=one) for _ in range(2)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - t0
        eq(len(results), 2)
        eq(sorted(b["n"] for _, b in results), [2, 3], "each request saw the other's update")
        eq(len({b["pid"] for _, b in results}), 2, "served by two workers at once")
        check(elapsed >= 0.8, "the second request waited for the first (%.2f s)" % elapsed)
        _, last = call(srv.port, "op=incr", sid=sid)
        eq(last["n"], 4)
    finally:
        srv.stop()


@test
def killed_holder_releases_the_session_after_the_lock_ttl(_):
    srv = start("killed", workers=2)
    try:
        sid = new_session(srv.port)  # n = 1
        holder = threading.Thread(target=lambda: _ignore(lambda: call(srv.port, "op=hold", sid=sid, timeout=70)))
        holder.daemon = True
        holder.start()
        pid = None
        deadline = time.time() + 10
        while time.time() < deadline and pid is None:
            _, peek = call(srv.port, "op=peek&key=holder:" + sid)
            pid = peek["value"]
            time.sleep(0.02)
        check(pid is not None, "the holder took the session")
        os.kill(int(pid), signal.SIGKILL)
        killed_at = time.time()
        _, body = call(srv.port, "op=incr", sid=sid)
        waited = time.time() - killed_at
        check(body["started"], "session_start succeeded after the holder died: %r" % body)
        eq(body["n"], 2, "the dead holder's unsaved change is not there; ours is")
        check(0.5 <= waited < LOCK_TTL + 5, "taken over once the dead-man TTL passed, not before, not never (%.2f s)" % waited)
        check(srv.alive(), "server still up")
    finally:
        srv.stop()


def _ignore(fn):
    try:
        fn()
    except Exception:
        pass


def setup():
    CTX.docroot = os.path.join(CTX.workdir, "public")
    shutil.copytree(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "sessions"), CTX.docroot)


if __name__ == "__main__":
    SUITE.main(setup, private_binary=False)
