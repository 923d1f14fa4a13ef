#!/usr/bin/env python3
"""End-to-end tests of dispatch between worker processes (runtime/http/README.md, "Dispatch"):
a request read on a keep-alive connection while its worker's PHP thread is busy moves, with the
connection, to an idle worker.

Usage: dispatch_e2e.py path/to/ephpm [-k substring]

Two connections on the same worker are found by pigeonhole: with workers = 2, two of three
keep-alive connections share a worker (which one answered is getmypid() in fixtures
dispatch.php). Connection A sends a slow request; connection B then sends a fast one. Without
dispatch B's answer comes after A's; the tests assert the order (B answered while A has not
been), never a duration. Prints `N passed, M failed`.
"""
import hashlib
import json
import os
import select
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402
from e2e import Conn, KeepAliveLoad, check, eq, get  # noqa: E402
from workers_e2e import children, wait_for  # noqa: E402

SUITE = e2e.Suite()
test, CTX = SUITE.test, SUITE.ctx

WORKER_SCRIPT = """<?php
// Worker mode for dispatch_e2e.py: every request runs dispatch.php inside the booted script.
while (ephpm_handle_request(function (): void { require __DIR__ . '/dispatch.php'; })) {
}
"""


def config(workers=2, mode="classic", extra=""):
    text = ('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "%s"\n'
            '[php]\nmax_execution_time = 20\nworkers = %d\nmode = "%s"\n'
            % (CTX.docroot, workers, mode))
    if mode == "worker":
        text += 'worker_script = "dispatch_worker.php"\n'
    text += extra
    text += '[kv]\nmemory_limit = "16MB"\n[log]\nlevel = "info"\n'
    return text


def start(name, **kw):
    srv = SUITE.start(name, config(**kw))
    wait_for(lambda: len(children(srv.proc.pid)) == kw.get("workers", 2), 10)
    return srv


def send_get(conn, query):
    conn.send("GET /dispatch.php?%s HTTP/1.1\r\nHost: x\r\n\r\n" % query)


def answer(conn):
    r = conn.read_response()
    eq(r.status, 200, "status")
    return r.json()


def readable(conn):
    """Whether a response (or any byte) has arrived on conn: what the test orders by."""
    if conn.buf:
        return True
    r, _, _ = select.select([conn.sock], [], [], 0)
    return bool(r)


def same_worker_pair(port):
    """Two keep-alive connections served by the same worker, the worker's pid, and the third
    connection (closed)."""
    conns = [Conn(port, timeout=30) for _ in range(3)]
    pids = []
    for i, c in enumerate(conns):
        send_get(c, "tag=probe%d" % i)
        pids.append(answer(c)["pid"])
    for i in range(3):
        for j in range(i + 1, 3):
            if pids[i] == pids[j]:
                k = 3 - i - j
                conns[k].close()
                return conns[i], conns[j], pids[i]
    raise AssertionError("three connections on two workers, all different: %r" % pids)


def behind_a_slow_request(port, what, send, answers=1):
    """The shape of these tests: A and B share a worker, A sends a slow request, then send(B)
    sends what is under test on B. Reads B's `answers` responses and asserts that they came while
    A was still running, from the other worker, and that A was then answered by its own worker.
    Returns (B's answers, B); B stays open for the caller, who closes it."""
    a, b, busy_pid = same_worker_pair(port)
    try:
        send_get(a, "tag=slow&sleep=2")
        time.sleep(0.5)  # A's request reaches its worker first (not an assertion)
        send(b)
        got = [answer(b) for _ in range(answers)]
        check(not readable(a), "%s answered while the slow request on A is still running" % what)
        for g in got:
            check(g["pid"] != busy_pid, "%s ran in the other worker (pid %d), not behind A in %d"
                  % (what, g["pid"], busy_pid))
        slow = answer(a)
        eq((slow["tag"], slow["pid"]), ("slow", busy_pid), "A answered by its own worker")
        return got, b
    except BaseException:
        b.close()
        raise
    finally:
        a.close()


def slow_then_fast(srv, mode):
    """A fast request on B is answered first, by the other worker, and B stays usable
    (keep-alive) on that worker."""
    (fast,), b = behind_a_slow_request(srv.port, "%s: B's request" % mode,
                                       lambda b: send_get(b, "tag=fast"))
    try:
        eq(fast["tag"], "fast", "B's answer")
        send_get(b, "tag=again")
        again = answer(b)
        eq((again["tag"], again["pid"]), ("again", fast["pid"]),
           "B is still a keep-alive connection, now with the worker it was handed to")
    finally:
        b.close()


@test
def fast_request_not_stuck_behind_slow_classic(p):
    srv = start("classic")
    try:
        slow_then_fast(srv, "classic")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def fast_request_not_stuck_behind_slow_worker_mode(p):
    srv = start("worker", mode="worker")
    try:
        slow_then_fast(srv, "worker mode")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def pipelined_requests_keep_their_order_across_a_handoff(p):
    srv = start("pipeline")
    try:
        pipelined = "".join("GET /dispatch.php?tag=p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(4))
        got, b = behind_a_slow_request(srv.port, "the pipelined requests", lambda b: b.send(pipelined),
                                       answers=4)
        b.close()
        eq([g["tag"] for g in got], ["p0", "p1", "p2", "p3"], "responses in request order")
        eq(len({g["pid"] for g in got}), 1, "all by one worker")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def request_bodies_travel_with_the_connection(p):
    # 1 KB stays in the message, 40 KB goes through a memfd, 300 KB is a spooled temp file.
    srv = start("bodies")
    try:
        for size in (1000, 40000, 300000):
            body = os.urandom(size)
            post = ("POST /dispatch.php?tag=post HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                    "Content-Type: application/octet-stream\r\n\r\n" % size).encode() + body
            (r,), b = behind_a_slow_request(srv.port, "%d-byte POST" % size, lambda b: b.send(post))
            b.close()
            eq((r["len"], r["md5"]), (size, hashlib.md5(body).hexdigest()),
               "%d-byte body as sent" % size)
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def handoff_to_a_worker_that_dies_is_served_by_its_replacement(p):
    # The receiver is stopped, so the connection waits in its slot's socket; it is then killed:
    # the master keeps the socket, and the slot's next worker takes the connection and answers.
    srv = start("dies")
    try:
        a, b, busy_pid = same_worker_pair(srv.port)
        other = [w for w in children(srv.proc.pid) if w != busy_pid]
        eq(len(other), 1, "one other worker")
        victim = other[0]
        os.kill(victim, signal.SIGSTOP)
        try:
            send_get(a, "tag=slow&sleep=1")
            time.sleep(0.3)
            send_get(b, "tag=fast")
            time.sleep(0.3)  # the hand-off is sent to the stopped worker (not an assertion)
        finally:
            os.kill(victim, signal.SIGKILL)
            os.kill(victim, signal.SIGCONT)
        fast = answer(b)
        eq(fast["tag"], "fast", "B answered")
        check(fast["pid"] not in (busy_pid, victim),
              "by the replacement of the killed worker (pid %d; busy %d, killed %d)"
              % (fast["pid"], busy_pid, victim))
        eq(answer(a)["tag"], "slow", "A answered")
        a.close()
        b.close()
    finally:
        eq(srv.stop(), 0, "exit code")


def mix_load_counts(srv, key, during=None, seconds=4.0):
    """Keep-alive clients on the 10 %-slow mix; returns the load. Every answered request has a
    distinct count n and the store's count equals the number of answers (none ran twice, none
    was lost after running)."""
    with KeepAliveLoad(srv.port, "/dispatch.php?mix=" + key, conns=8) as load:
        load.wait_until_all_answered(20)
        if during is not None:
            during()
        time.sleep(seconds)
    ns = [json.loads(r.body)["n"] for _, r in load.ok]
    eq(len(ns), len(set(ns)), "every answer has its own count (no request ran twice)")
    total = int(get(srv.port, "/worker.php?get=" + key).json()["v"])
    # A request can only have run without an answer if its client saw it fail.
    check(len(ns) <= total <= len(ns) + len(load.errors),
          "requests run (%d) = requests answered, plus at most the failed ones (%s)"
          % (total, load.summary()))
    return load


@test
def mix_under_keepalive_load_nothing_lost_or_doubled(p):
    srv = start("mix", workers=3)
    try:
        load = mix_load_counts(srv, "mix")
        eq(load.errors, [], "no failed request")
        check("handoff" not in srv.stderr(), "no hand-off errors: %s" % srv.stderr()[-500:])
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def mix_with_rolling_restarts_nothing_lost(p):
    srv = start("roll", workers=2)
    try:
        def roll():
            for _ in range(2):
                os.kill(srv.proc.pid, signal.SIGHUP)
                time.sleep(1.5)
        load = mix_load_counts(srv, "roll", during=roll, seconds=1.0)
        eq(load.errors, [], "no failed request across rolling restarts (%s)" % load.summary())
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def mix_with_a_worker_killed_answers_every_other_request(p):
    # A worker killed with SIGKILL loses what it was running (its connections are reset, as
    # before dispatch); everything else is answered, and nothing runs twice.
    srv = start("kill", workers=3)
    try:
        def kill_one():
            os.kill(children(srv.proc.pid)[0], signal.SIGKILL)
        load = mix_load_counts(srv, "kill", during=kill_one)
        check(len(load.errors) <= 8, "at most the killed worker's connections failed: %s"
              % load.summary())
        check(wait_for(lambda: len(children(srv.proc.pid)) == 3, 5), "respawned")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def sigterm_drain_with_handoffs_in_flight_loses_nothing(p):
    srv = start("drain", workers=2)
    try:
        with KeepAliveLoad(srv.port, "/dispatch.php?mix=drain", conns=8, reconnect=False) as load:
            load.wait_until_all_answered(20)
            os.kill(srv.proc.pid, signal.SIGTERM)
            rc = srv.proc.wait(30)
        eq(rc, 0, "exit code")
        eq(load.errors, [], "no request failed during the drain (%s)" % load.summary())
    finally:
        if srv.alive():
            srv.stop()


def setup():
    CTX.docroot = os.path.join(CTX.workdir, "public")
    shutil.copytree(e2e.FIXTURES, CTX.docroot, symlinks=True)
    with open(os.path.join(CTX.docroot, "dispatch_worker.php"), "w") as f:
        f.write(WORKER_SCRIPT)


if __name__ == "__main__":
    SUITE.main(setup)
