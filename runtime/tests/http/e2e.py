#!/usr/bin/env python3
"""End-to-end tests of `ephpm serve` over real loopback sockets.

Usage: e2e.py path/to/ephpm [-k substring]

Copies runtime/tests/http/fixtures/public to a temporary directory, adds what git cannot hold
(.git/, symlinks pointing outside), writes an ephpm.toml, starts `ephpm serve` on a free port
(listen port 0; the URL is read from its stdout) and checks the HTTP behaviour, the routing and
security rules, the request SAPI and the robustness rules with a raw-socket client. Every
process it starts is stopped by pid. Prints `N passed, M failed` and exits non-zero on failure.
"""
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "public")

# ------------------------------------------------------------------------------------------------
# A small raw HTTP/1.1 client
# ------------------------------------------------------------------------------------------------


class Response:
    def __init__(self, status, reason, headers, body, version, interim=None):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lower-case name, value)
        self.body = body
        self.version = version
        self.interim = interim or []

    def header(self, name, default=None):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return default

    def all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %s %r>" % (self.status, self.headers, self.body[:200])


class Conn:
    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, head=False):
        interim = []
        while True:
            status_line = self._line().decode("latin-1")
            m = re.match(r"HTTP/(\d\.\d) (\d{3}) ?(.*)", status_line)
            if not m:
                raise ValueError("bad status line %r" % status_line)
            headers = []
            while True:
                line = self._line().decode("latin-1")
                if line == "":
                    break
                k, v = line.split(":", 1)
                headers.append((k.strip().lower(), v.strip()))
            status = int(m.group(2))
            if 100 <= status < 200:
                interim.append(status)
                continue
            break
        hdr = dict(headers)
        body = b""
        if head or status in (204, 304):
            pass
        elif hdr.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line() != b"":
                        pass
                    break
                body += self._exact(size)
                self._exact(2)
        elif "content-length" in hdr:
            body = self._exact(int(hdr["content-length"]))
        else:
            try:
                while True:
                    self._fill()
            except (EOFError, ConnectionResetError):
                pass
            body, self.buf = self.buf, b""
        return Response(status, m.group(3), headers, body, m.group(1), interim)

    def closed_by_peer(self, timeout=5):
        """True when the server closes the connection (EOF or reset) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def request(port, method, path, headers=None, body=None, version="1.1", host="localhost",
            timeout=15):
    c = Conn(port, timeout)
    try:
        lines = ["%s %s HTTP/%s" % (method, path, version)]
        hdrs = [] if headers is None else list(headers.items() if isinstance(headers, dict) else headers)
        names = [k.lower() for k, _ in hdrs]
        if host is not None and "host" not in names:
            lines.append("Host: " + host)
        for k, v in hdrs:
            lines.append("%s: %s" % (k, v))
        if body is not None and "content-length" not in names and "transfer-encoding" not in names:
            lines.append("Content-Length: %d" % len(body))
        if "connection" not in names:
            lines.append("Connection: close")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if body is not None:
            data += body if isinstance(body, bytes) else body.encode()
        c.send(data)
        return c.read_response(head=(method == "HEAD"))
    finally:
        c.close()


def get(port, path, **kw):
    return request(port, "GET", path, **kw)


def raw(port, data, timeout=10):
    """Sends raw bytes, returns the first response (or None when the server just closes)."""
    c = Conn(port, timeout)
    try:
        c.send(data)
        try:
            return c.read_response()
        except (EOFError, ConnectionResetError):
            return None
    finally:
        c.close()


def dropped_by_peer(sock):
    """True when the peer has closed an idle connection (what an HTTP client library checks
    before it reuses a pooled keep-alive connection)."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class KeepAliveLoad:
    """`conns` clients, each on one keep-alive connection, sending its next request as soon as
    the previous answer arrived, like a pooled HTTP client: a response with `Connection: close`
    makes it open a new connection (with reconnect=False it stops: the server is going away),
    and so does an idle connection the server closed before the client reused it. A request
    sent that gets no complete 200 response is a failure; nothing is retried."""

    def __init__(self, port, path, conns=8, reconnect=True):
        self.port = port
        self.path = path
        self.reconnect = reconnect
        self.ok = []       # (time, Response)
        self.errors = []   # (time, repr)
        self.closes = 0    # responses with Connection: close
        self.dropped = 0   # idle connections the server closed before reuse
        self.lock = threading.Lock()
        self.stop_flag = False
        self.threads = [threading.Thread(target=self.run) for _ in range(conns)]

    def run(self):
        c = None
        while not self.stop_flag:
            if c is not None and dropped_by_peer(c.sock):
                c.close()
                c = None
                with self.lock:
                    self.dropped += 1
                if not self.reconnect:
                    return
            try:
                if c is None:
                    c = Conn(self.port, timeout=20)
            except OSError as e:
                with self.lock:
                    self.errors.append((time.time(), "connect: %r" % e))
                return
            try:
                c.send("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % self.path)
                r = c.read_response()
                if r.status != 200:
                    raise RuntimeError("status %d" % r.status)
            except Exception as e:  # noqa
                with self.lock:
                    self.errors.append((time.time(), repr(e)))
                c.close()
                c = None
                if not self.reconnect:
                    return
                continue
            with self.lock:
                self.ok.append((time.time(), r))
            if (r.header("connection") or "").lower() == "close":
                c.close()
                c = None
                with self.lock:
                    self.closes += 1
                if not self.reconnect:
                    return
        if c is not None:
            c.close()

    def wait_until_all_answered(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.ok) < 4 * len(self.threads):
            time.sleep(0.02)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *a):
        self.stop_flag = True
        for t in self.threads:
            t.join()

    def summary(self):
        return "%d answered, %d failed, %d Connection: close, %d idle closes seen" % (
            len(self.ok), len(self.errors), self.closes, self.dropped)


# ------------------------------------------------------------------------------------------------
# Server process
# ------------------------------------------------------------------------------------------------


class Server:
    def __init__(self, binary, workdir, config_text, name="ephpm"):
        self.binary = binary
        self.workdir = workdir
        self.config = os.path.join(workdir, name + ".toml")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.stdout_path = os.path.join(workdir, name + ".out")
        self.stderr_path = os.path.join(workdir, name + ".err")
        self.proc = None
        self.port = None

    def start(self):
        out = open(self.stdout_path, "w")
        err = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config],
                                     stdout=out, stderr=err, cwd=self.workdir)
        deadline = time.time() + 20
        while time.time() < deadline:
            with open(self.stdout_path) as f:
                m = re.search(r"ephpm: listening on http://127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                raise RuntimeError("ephpm serve exited with %s: %s" % (self.proc.returncode, self.stderr()))
            time.sleep(0.05)
        raise RuntimeError("ephpm serve did not print its URL")

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


# ------------------------------------------------------------------------------------------------
# Test registry and runner (shared by every *_e2e.py file)
# ------------------------------------------------------------------------------------------------


class Suite:
    """The tests of one e2e file, registered in file order with @suite.test, and the state they
    share (suite.ctx: binary and workdir, plus what the file's setup adds). A file starts with
    `SUITE = e2e.Suite(); test, CTX = SUITE.test, SUITE.ctx` and ends with `SUITE.main(setup)`."""

    def __init__(self):
        self.tests = []
        self.ctx = types.SimpleNamespace()
        self._started = 0

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def start(self, name, config_text):
        """Starts `ephpm serve` on config_text; its files in the work directory are named
        NAME-N.toml/.out/.err, N counting the servers this suite started."""
        self._started += 1
        srv = Server(self.ctx.binary, self.ctx.workdir, config_text, "%s-%d" % (name, self._started))
        srv.start()
        return srv

    def main(self, setup=None, private_binary=True):
        """Usage: FILE.py path/to/ephpm [-k substring]. Makes a temporary work directory (with
        private_binary a copy of the binary in it, so a rebuild of build/ cannot replace it
        mid-test) and calls setup(). When setup returns a Server, it is shared: started first,
        each test gets its port and must leave it running (a dead one is reported and started
        again), and it must exit 0 on the final SIGTERM. Otherwise each test gets None and starts
        the servers it needs. Runs the tests whose name contains the substring, prints a PASS or
        FAIL line each and `N passed, M failed`, and exits 1 on a failure, 2 on a usage error.
        The work directory is removed when everything passed, kept (server logs *.err) otherwise."""
        args = sys.argv[1:]
        if len(args) not in (1, 3) or (len(args) == 3 and args[1] != "-k"):
            print("usage: %s path/to/ephpm [-k substring]" % os.path.basename(sys.argv[0]))
            sys.exit(2)
        only = args[2] if len(args) == 3 else None
        name = os.path.basename(sys.argv[0])[:-len(".py")].replace("_e2e", "").replace("_", "-")
        workdir = tempfile.mkdtemp(prefix="ephpm-%s-" % name)
        self.ctx.workdir = workdir
        self.ctx.binary = os.path.abspath(args[0])
        if private_binary:
            self.ctx.binary = os.path.join(workdir, "ephpm")
            shutil.copy2(args[0], self.ctx.binary)
        failures = []
        passed = 0
        shared = None
        try:
            shared = setup() if setup else None
            if shared:
                shared.start()
            for fn in self.tests:
                if only and only not in fn.__name__:
                    continue
                if self._run(fn, shared):
                    passed += 1
                else:
                    failures.append(fn.__name__)
            if shared:
                rc = shared.stop()
                if rc != 0:
                    failures.append("final SIGTERM exit code %s" % rc)
                    print("FAIL final SIGTERM: exit code %s" % rc)
        finally:
            if shared:
                shared.stop(signal.SIGKILL)
        if failures:
            print("work directory kept (server logs *.err): " + workdir)
            print("failed: " + ", ".join(failures))
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        print("%d passed, %d failed" % (passed, len(failures)))
        sys.exit(1 if failures else 0)

    @staticmethod
    def _run(fn, shared):
        t0 = time.time()
        try:
            if shared:
                check(shared.alive(), "server died before the test")
            fn(shared.port if shared else None)
            if shared:
                check(shared.alive(), "server died during the test")
            print("PASS %-60s %.2fs" % (fn.__name__, time.time() - t0), flush=True)
            return True
        except Exception as e:  # noqa
            print("FAIL %-60s %s" % (fn.__name__, e), flush=True)
            if not isinstance(e, AssertionError):
                traceback.print_exc()
            if shared and not shared.alive():
                print("server died (exit %s); restarting. stderr:\n%s"
                      % (shared.proc.returncode, shared.stderr()[-3000:]))
                shared.start()
            return False


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def eq(a, b, what=""):
    if a != b:
        raise AssertionError("%s: expected %r, got %r" % (what, b, a))


SUITE = Suite()
test, CTX = SUITE.test, SUITE.ctx

# ------------------------------------------------------------------------------------------------
# HTTP basics
# ------------------------------------------------------------------------------------------------


@test
def hello_php(p):
    r = get(p, "/hello.php")
    eq(r.status, 200, "status")
    eq(r.body, b"Hello, world!\n", "body")
    eq(r.header("content-length"), "14", "content-length")
    check(r.header("date"), "Date header")
    check(r.header("content-type").startswith("text/html"), "PHP default content type")


@test
def connection_close_honoured(p):
    c = Conn(p)
    c.send("GET /hello.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    r = c.read_response()
    eq(r.header("connection"), "close", "Connection header")
    check(c.closed_by_peer(), "server closes after Connection: close")
    c.close()


@test
def keep_alive_two_requests(p):
    c = Conn(p)
    for _ in range(2):
        c.send("GET /hello.php HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response()
        eq(r.status, 200, "status")
        eq(r.header("connection"), None, "no Connection header on HTTP/1.1 keep-alive")
    c.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    eq(c.read_response().body, b"static text file\n", "static on the same connection")
    c.close()


@test
def pipelining_keeps_order(p):
    c = Conn(p)
    c.send("GET /sleep.php?s=0.2 HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET /hello.php HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET /status.php?code=201 HTTP/1.1\r\nHost: x\r\n\r\n")
    bodies = [c.read_response().body for _ in range(4)]
    eq(bodies, [b"slept 0.2\n", b"static text file\n", b"Hello, world!\n", b"status\n"], "order")
    c.close()


@test
def http10_closes_by_default_and_keeps_alive_on_request(p):
    r = request(p, "GET", "/hello.php", version="1.0", host=None, headers={"Connection": "close"})
    eq(r.status, 200, "status")
    eq(r.version, "1.0", "response version follows the request")
    c = Conn(p)
    c.send("GET /hello.php HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    r = c.read_response()
    eq(r.header("connection", "").lower(), "keep-alive", "1.0 keep-alive")
    c.send("GET /hello.php HTTP/1.0\r\n\r\n")
    r = c.read_response()
    check(c.closed_by_peer(), "1.0 without keep-alive closes")
    c.close()


@test
def head_static_and_php(p):
    r = request(p, "HEAD", "/a.txt")
    eq(r.status, 200, "status")
    eq(r.header("content-length"), "17", "HEAD keeps the GET length")
    eq(r.body, b"", "no body")
    c = Conn(p)
    c.send("HEAD /hello.php HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    r = c.read_response(head=True)
    eq(r.status, 200, "HEAD php status")
    r2 = c.read_response()
    eq(r2.body, b"static text file\n", "no body bytes leaked after HEAD")
    c.close()


@test
def chunked_request_body(p):
    c = Conn(p)
    c.send("POST /input.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           "Content-Type: application/json\r\n\r\n"
           "5\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\n\r\n")
    r = c.read_response()
    eq(r.status, 200, "status")
    eq(r.json()["input"], '{"a": 1}', "php://input from a chunked body")
    c.close()


@test
def expect_100_continue(p):
    c = Conn(p)
    c.send("POST /input.php HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
           "Content-Type: text/plain\r\nExpect: 100-continue\r\n\r\n")
    line = c._line()
    check(line.startswith(b"HTTP/1.1 100"), "interim 100 Continue, got %r" % line)
    c._line()
    c.send("payload")
    r = c.read_response()
    eq(r.json()["input"], "payload", "body after 100-continue")
    c.close()


@test
def expect_too_large_is_413_without_continue(p):
    c = Conn(p)
    c.send("POST /input.php HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
           "Expect: 100-continue\r\n\r\n")
    r = c.read_response()
    eq(r.status, 413, "413 instead of 100")
    eq(r.interim, [], "no 100 Continue")
    c.close()


# ------------------------------------------------------------------------------------------------
# Static files
# ------------------------------------------------------------------------------------------------


@test
def static_mime_and_validators(p):
    r = get(p, "/style.css")
    eq(r.status, 200, "status")
    check(r.header("content-type").startswith("text/css"), "css MIME: %s" % r.header("content-type"))
    etag = r.header("etag")
    check(etag and etag.startswith('W/"'), "weak ETag")
    check(r.header("last-modified"), "Last-Modified")
    eq(r.header("accept-ranges"), "bytes", "Accept-Ranges")
    r = get(p, "/style.css", headers={"If-None-Match": etag})
    eq(r.status, 304, "If-None-Match -> 304")
    eq(r.body, b"", "304 has no body")
    r = get(p, "/style.css", headers={"If-None-Match": '"other", ' + etag})
    eq(r.status, 304, "list match")
    r = get(p, "/style.css", headers={"If-None-Match": '"nope"'})
    eq(r.status, 200, "mismatch -> 200")
    r = get(p, "/style.css", headers={"If-Modified-Since": r.header("last-modified")})
    eq(r.status, 304, "If-Modified-Since -> 304")
    r = get(p, "/style.css", headers={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})
    eq(r.status, 200, "old IMS -> 200")
    r = get(p, "/unknown.bin.zzz")
    check(r.status in (200, 404), "whatever")


@test
def static_ranges(p):
    full = get(p, "/range.txt").body
    eq(len(full), 1000, "fixture")
    r = get(p, "/range.txt", headers={"Range": "bytes=10-19"})
    eq(r.status, 206, "206")
    eq(r.body, full[10:20], "range body")
    eq(r.header("content-range"), "bytes 10-19/1000", "Content-Range")
    r = get(p, "/range.txt", headers={"Range": "bytes=-5"})
    eq(r.body, full[-5:], "suffix range")
    r = get(p, "/range.txt", headers={"Range": "bytes=990-"})
    eq(r.body, full[990:], "open range")
    r = get(p, "/range.txt", headers={"Range": "bytes=995-2000"})
    eq(r.body, full[995:], "clamped range")
    r = get(p, "/range.txt", headers={"Range": "bytes=5000-"})
    eq(r.status, 416, "unsatisfiable")
    eq(r.header("content-range"), "bytes */1000", "416 Content-Range")
    r = get(p, "/range.txt", headers={"Range": "bytes=0-1,5-6"})
    eq(r.status, 200, "multi-range ignored -> 200")
    r = get(p, "/range.txt", headers={"Range": "bytes=0-1", "If-Range": '"stale"'})
    eq(r.status, 200, "If-Range mismatch -> full")


@test
def static_large_file_sendfile_and_ranges(p):
    # 300 KB: above the sendfile threshold (64 KiB), whole and as ranges on both sides of it.
    data = bytes((i * 7 + i // 251) % 256 for i in range(300000))
    with open(os.path.join(CTX.docroot, "large.bin"), "wb") as f:
        f.write(data)
    c = Conn(p)
    try:
        for rng, want in ((None, data), ("bytes=100-70099", data[100:70100]),
                          ("bytes=-200000", data[-200000:]), ("bytes=5-9", data[5:10])):
            hdr = "Range: %s\r\n" % rng if rng else ""
            c.send("GET /large.bin HTTP/1.1\r\nHost: x\r\n%s\r\n" % hdr)
            r = c.read_response()
            eq(r.status, 206 if rng else 200, "status for %s" % rng)
            eq(int(r.header("content-length")), len(want), "Content-Length for %s" % rng)
            check(r.body == want, "body for %s (%d bytes)" % (rng, len(r.body)))
        c.send("HEAD /large.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response(head=True)
        eq((r.status, r.header("content-length")), (200, "300000"), "HEAD keeps the length")
        c.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        eq(c.read_response().status, 200, "keep-alive after sendfile bodies")
    finally:
        c.close()


@test
def static_file_replaced_is_served_new(p):
    # The open-file cache revalidates an entry after 1 s: a replaced file (new inode, as a deploy
    # does it) is served new after that, never an error in between.
    path = os.path.join(CTX.docroot, "replaced.txt")
    with open(path, "w") as f:
        f.write("old version\n")
    eq(get(p, "/replaced.txt").body, b"old version\n", "first version")
    with open(path + ".tmp", "w") as f:
        f.write("the new version\n")
    os.rename(path + ".tmp", path)
    served_whole_until_new(p, "/replaced.txt", b"old version\n", b"the new version\n")


def served_whole_until_new(p, url, old, new):
    """Polls url until it serves `new` (10 s at most): every answer a 200 with one whole version."""
    seen = set()
    deadline = time.time() + 10
    while time.time() < deadline:
        r = get(p, url)
        eq(r.status, 200, "status while %s changes" % url)
        seen.add(r.body)
        if r.body == new:
            break
        time.sleep(0.1)
    check(new in seen, "the new version is served: %r" % seen)
    check(seen <= {old, new}, "only whole versions: %r" % seen)


@test
def static_file_rewritten_in_place_then_deleted(p):
    # Only existing paths are cached, so a file is served the moment it appears. A small file is
    # answered from the open-file cache's copy: rewritten in place (same inode,
    # other length) it is served whole, old or new, and new after the 1 s revalidation; deleted,
    # the request goes to the front controller within the path cache's 1 s, never an error.
    path = os.path.join(CTX.docroot, "inplace.txt")
    check(get(p, "/inplace.txt").body.startswith(b'{"front":true'), "before it exists: front controller")
    with open(path, "w") as f:
        f.write("first\n")
    eq(get(p, "/inplace.txt").body, b"first\n", "a new file is served at once (no negative caching)")
    with open(path, "r+") as f:
        f.truncate(0)
        f.write("the second, longer version\n")
    versions = {b"first\n", b"the second, longer version\n"}
    served_whole_until_new(p, "/inplace.txt", b"first\n", b"the second, longer version\n")
    os.unlink(path)
    routed_to_front = False
    deadline = time.time() + 10
    while time.time() < deadline:
        r = get(p, "/inplace.txt")
        eq(r.status, 200, "status while the file is deleted")
        if r.body.startswith(b'{"front":true'):
            routed_to_front = True
            break
        check(r.body in versions, "a whole version until the deletion is seen: %r" % r.body[:80])
        time.sleep(0.1)
    check(routed_to_front, "the front controller answers once the file is gone")


@test
def method_not_allowed_on_static(p):
    for m in ("POST", "PUT", "DELETE", "PATCH"):
        r = request(p, m, "/a.txt", body="x")
        eq(r.status, 405, m)
        eq(r.header("allow"), "GET, HEAD", "Allow")


@test
def directory_redirect_and_index(p):
    r = get(p, "/dir?x=1")
    eq(r.status, 308, "308")
    eq(r.header("location"), "/dir/?x=1", "Location keeps the query")
    r = get(p, "/dir/")
    eq(r.body, b"<h1>dir index</h1>\n", "index.html")
    r = get(p, "/dir2/")
    eq(r.body, b"dir2 index.php\n", "index.php first")
    s = get(p, "/sub/page.php").body
    eq(s, b"sub page /sub/page.php\n", "nested script")


@test
def front_controller_fallback(p):
    r = get(p, "/blog/hello?x=1", host="example.com:8080")
    eq(r.status, 200, "status")
    d = r.json()
    check(d["front"], "front controller")
    s = d["server"]
    root = CTX.docroot_real
    eq(s["SCRIPT_FILENAME"], root + "/index.php", "SCRIPT_FILENAME")
    eq(s["SCRIPT_NAME"], "/index.php", "SCRIPT_NAME")
    eq(s["PATH_INFO"], "", "PATH_INFO")
    eq(s["PHP_SELF"], "/index.php", "PHP_SELF")
    check("PATH_TRANSLATED" not in s, "no PATH_TRANSLATED")
    eq(s["DOCUMENT_ROOT"], root, "DOCUMENT_ROOT")
    eq(s["REQUEST_URI"], "/blog/hello?x=1", "REQUEST_URI")
    eq(s["QUERY_STRING"], "x=1", "QUERY_STRING")
    eq(s["REQUEST_METHOD"], "GET", "REQUEST_METHOD")
    eq(s["SERVER_PROTOCOL"], "HTTP/1.1", "SERVER_PROTOCOL")
    eq(s["SERVER_NAME"], "example.com", "SERVER_NAME")
    eq(s["SERVER_PORT"], "8080", "SERVER_PORT")
    eq(s["SERVER_ADDR"], "127.0.0.1", "SERVER_ADDR")
    eq(s["REMOTE_ADDR"], "127.0.0.1", "REMOTE_ADDR")
    check(s["REMOTE_PORT"].isdigit(), "REMOTE_PORT")
    eq(s["GATEWAY_INTERFACE"], "CGI/1.1", "GATEWAY_INTERFACE")
    eq(s["REQUEST_SCHEME"], "http", "REQUEST_SCHEME")
    check(re.fullmatch(r"ephpm/\d+\.\d+\.\d+", s["SERVER_SOFTWARE"]) is not None, "SERVER_SOFTWARE = ephpm/<version>")
    eq(s["HTTP_HOST"], "example.com:8080", "HTTP_HOST")
    eq(s["REDIRECT_STATUS"], "200", "REDIRECT_STATUS")
    check("HTTPS" not in s, "no HTTPS")
    check(isinstance(s["REQUEST_TIME"], int) and isinstance(s["REQUEST_TIME_FLOAT"], float), "REQUEST_TIME")
    check(abs(s["REQUEST_TIME_FLOAT"] - time.time()) < 60, "REQUEST_TIME_FLOAT is now")
    eq(s.get("EPHPM_E2E_ENV"), "from-environment", "environment imported")


@test
def server_vars_path_info_and_headers(p):
    r = get(p, "/server.php/foo/bar?q=%20x", headers=[("X-Dup", "a"), ("X-Dup", "b"), ("Foo_Bar", "spoof"),
                                                     ("Cookie", "a=1"), ("Cookie", "b=2")])
    s = r.json()
    eq(s["SCRIPT_NAME"], "/server.php", "SCRIPT_NAME")
    eq(s["PATH_INFO"], "/foo/bar", "PATH_INFO")
    eq(s["PHP_SELF"], "/server.php/foo/bar", "PHP_SELF")
    eq(s["PATH_TRANSLATED"], CTX.docroot_real + "/foo/bar", "PATH_TRANSLATED")
    eq(s["QUERY_STRING"], "q=%20x", "raw QUERY_STRING")
    eq(s["HTTP_X_DUP"], "a, b", "duplicates joined")
    eq(s["HTTP_COOKIE"], "a=1; b=2", "cookies joined with ; ")
    check("HTTP_FOO_BAR" not in s, "underscore header dropped")
    r = get(p, "/server.php", host="[::1]:9000")
    s = r.json()
    eq(s["SERVER_NAME"], "[::1]", "IPv6 SERVER_NAME")
    eq(s["SERVER_PORT"], "9000", "IPv6 SERVER_PORT")
    r = get(p, "/server.php", host="example.org")
    s = r.json()
    eq(s["SERVER_NAME"], "example.org", "Host without port")
    eq(s["SERVER_PORT"], str(p), "SERVER_PORT falls back to the local port")
    r = request(p, "GET", "/server.php", version="1.0", host=None)
    s = r.json()
    eq(s["SERVER_NAME"], "127.0.0.1", "no Host: listen address")
    r = request(p, "POST", "/server.php", headers={"Content-Type": "text/plain"}, body="12345")
    s = r.json()
    eq(s["CONTENT_TYPE"], "text/plain", "CONTENT_TYPE")
    eq(s["CONTENT_LENGTH"], "5", "CONTENT_LENGTH")
    check("HTTP_CONTENT_TYPE" not in s and "HTTP_CONTENT_LENGTH" not in s, "not HTTP_-prefixed")
    r = get(p, "/server.php", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    s = r.json()
    eq(s.get("PHP_AUTH_USER"), "user", "PHP_AUTH_USER")
    eq(s.get("PHP_AUTH_PW"), "pass", "PHP_AUTH_PW")


# ------------------------------------------------------------------------------------------------
# Request SAPI
# ------------------------------------------------------------------------------------------------


@test
def get_post_cookie(p):
    r = request(p, "POST", "/input.php?a=1&b[]=2&b[]=3",
                headers=[("Content-Type", "application/x-www-form-urlencoded"),
                         ("Cookie", "c1=x; c2=y"), ("Cookie", "c3=z")],
                body="p=hello+world&q%5Bk%5D=v")
    d = r.json()
    eq(d["get"], {"a": "1", "b": ["2", "3"]}, "$_GET")
    eq(d["post"], {"p": "hello world", "q": {"k": "v"}}, "$_POST")
    eq(d["cookie"], {"c1": "x", "c2": "y", "c3": "z"}, "$_COOKIE")
    eq(d["method"], "POST", "method")


@test
def php_input_raw(p):
    payload = json.dumps({"k": [1, 2, 3], "s": "\u00e9"})
    r = request(p, "PUT", "/input.php", headers={"Content-Type": "application/json"}, body=payload)
    eq(r.json()["input"], payload, "php://input")


@test
def multipart_upload(p):
    boundary = "----ephpmboundary"
    content = os.urandom(100000)
    body = (("--%s\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n" % boundary).encode()
            + ("--%s\r\nContent-Disposition: form-data; name=\"up\"; filename=\"f.bin\"\r\n"
               "Content-Type: application/octet-stream\r\n\r\n" % boundary).encode()
            + content + ("\r\n--%s--\r\n" % boundary).encode())
    r = request(p, "POST", "/input.php", headers={"Content-Type": "multipart/form-data; boundary=" + boundary},
                body=body)
    d = r.json()
    eq(d["post"], {"field": "value"}, "multipart field")
    f = d["files"]["up"]
    eq((f["name"], f["size"], f["error"]), ("f.bin", 100000, 0), "upload")
    eq(f["md5"], hashlib.md5(content).hexdigest(), "upload content")


@test
def headers_status_cookies(p):
    r = get(p, "/headers.php")
    eq(r.status, 418, "http_response_code")
    eq(r.header("x-custom"), "one", "header()")
    eq(r.all("x-multi"), ["a", "b"], "header(.., false) keeps both")
    cookies = r.all("set-cookie")
    eq(len(cookies), 2, "two Set-Cookie headers")
    check(cookies[0].startswith("first=v1") and cookies[1].startswith("second=v2"), str(cookies))
    check("HttpOnly" in cookies[1], "cookie attributes")
    eq(r.body, b"teapot", "body")


@test
def sapi_name_opcache_and_ini(p):
    d = get(p, "/sapi.php").json()
    eq(d["sapi"], "fpm-fcgi", "PHP_SAPI")
    eq(d["opcache"], True, "OPcache enabled under serve")
    eq(d["ephpm"], True, "ephpm extension loaded")
    eq(d["max_execution_time"], "0", "PHP's own CPU timer stays off (watchdog instead)")
    eq(d["memory_limit"], "128M", "[php] memory_limit default")
    eq(d["post_max_size"], str(1024 * 1024), "post_max_size mirrors max_body_size")
    eq(d["display_errors"], "0", "[php.ini] override applied")


@test
def redirect(p):
    r = get(p, "/redirect.php")
    eq(r.status, 302, "Location implies 302")
    eq(r.header("location"), "/hello.php", "Location")


@test
def streaming_flush(p):
    c = Conn(p)
    t0 = time.time()
    c.send("GET /stream.php?n=3&ms=300 HTTP/1.1\r\nHost: x\r\n\r\n")
    # The first chunk must arrive long before the script ends (~0.9 s).
    c._line()
    first = time.time() - t0
    c.buf = b"HTTP/1.1 200 OK\r\n" + c.buf
    r = c.read_response()
    eq(r.header("transfer-encoding"), "chunked", "chunked")
    eq(r.body, b"chunk 0\nchunk 1\nchunk 2\ndone\n", "streamed body")
    check(first < 0.6, "headers arrived after %.2f s (not streamed)" % first)
    c.send("GET /hello.php HTTP/1.1\r\nHost: x\r\n\r\n")
    eq(c.read_response().body, b"Hello, world!\n", "connection reusable after a stream")
    c.close()


@test
def big_output_streams(p):
    r = get(p, "/big.php")
    eq(r.status, 200, "status")
    eq(len(r.body), 3 * 1024 * 1024, "length")
    eq(r.header("transfer-encoding"), "chunked", "large output is streamed")


@test
def http10_streaming_is_close_delimited(p):
    r = request(p, "GET", "/stream.php?n=2&ms=10", version="1.0", host=None)
    eq(r.body, b"chunk 0\nchunk 1\ndone\n", "body")
    eq(r.header("transfer-encoding"), None, "no chunked for 1.0")


@test
def fatal_error_500_then_ok(p):
    for script in ("/fatal.php", "/fatal.php?kind=memory", "/fatal.php?kind=undefined"):
        r = get(p, script)
        eq(r.status, 500, "fatal -> 500 (%s)" % script)
        check(b"partial output" not in r.body, "partial body dropped (%s)" % script)
        eq(get(p, "/hello.php").body, b"Hello, world!\n", "next request served")
    r = get(p, "/exception.php")
    eq(r.status, 500, "uncaught exception -> 500")
    eq(get(p, "/hello.php").body, b"Hello, world!\n", "next request served")
    r = get(p, "/fatal.php?kind=after-header&code=201")
    eq(r.status, 500, "fatal after http_response_code(201) -> still 500")


@test
def exit_is_normal(p):
    r = get(p, "/exit.php")
    eq(r.status, 200, "exit() -> 200")
    eq(r.body, b"before exit\n", "output up to exit")


@test
def infinite_loop_watchdog(p):
    t0 = time.time()
    r = get(p, "/loop.php", timeout=30)
    dt = time.time() - t0
    eq(r.status, 504, "watchdog -> 504")
    check(1.5 <= dt <= 6, "stopped after %.2f s (max_execution_time = 2)" % dt)
    eq(get(p, "/hello.php").body, b"Hello, world!\n", "next request served")


@test
def sleep_watchdog(p):
    t0 = time.time()
    r = get(p, "/sleep.php?s=100", timeout=30)
    dt = time.time() - t0
    eq(r.status, 504, "sleep -> 504")
    check(dt <= 6, "sleep interrupted after %.2f s" % dt)
    eq(get(p, "/hello.php").status, 200, "next request served")


@test
def kv_wait_cancelled_by_watchdog(p):
    t0 = time.time()
    r = get(p, "/kvwait.php", timeout=30)
    dt = time.time() - t0
    eq(r.status, 504, "kv wait -> 504")
    check(dt <= 6, "ephpm_kv_wait cancelled after %.2f s" % dt)
    eq(get(p, "/hello.php").status, 200, "next request served")


@test
def client_disconnect_mid_stream(p):
    c = Conn(p)
    c.send("GET /stream.php?n=20&ms=50 HTTP/1.1\r\nHost: x\r\n\r\n")
    c._line()
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()  # RST
    for _ in range(3):
        eq(get(p, "/hello.php").body, b"Hello, world!\n", "others unaffected")
    time.sleep(1.2)
    eq(get(p, "/hello.php").status, 200, "server alive after the aborted script ended")


@test
def slow_reader_stream_watchdog(p):
    # The client never reads and the script never ends: once the client is 128 MiB behind (the
    # server's response buffer) PHP waits; the watchdog must still bring the PHP thread back (and
    # not kill the server after its grace period).
    c = Conn(p)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.send("GET /flood.php HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(3)
    t0 = time.time()
    eq(get(p, "/hello.php").body, b"Hello, world!\n", "PHP thread free again")
    check(time.time() - t0 < 2, "hello waited %.1f s" % (time.time() - t0))
    time.sleep(9)
    eq(get(p, "/hello.php").status, 200, "server alive after the watchdog grace period")
    c.close()


@test
def counter_walkthrough(p):
    key = "walk-%d" % os.getpid()
    got = [int(get(p, "/counter.php?key=" + key).body) for _ in range(25)]
    eq(got, list(range(1, 26)), "sequential counter")


@test
def counter_parallel(p):
    key = "par-%d" % os.getpid()
    results = []
    lock = threading.Lock()

    def one():
        v = int(get(p, "/counter.php?key=" + key).body)
        with lock:
            results.append(v)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    eq(sorted(results), list(range(1, 21)), "20 parallel increments")


# ------------------------------------------------------------------------------------------------
# Hostile requests: traversal, encodings, hidden files, source disclosure, limits
# ------------------------------------------------------------------------------------------------

HOSTILE = [
    # (raw target, expected status, description)
    ("/../etc/passwd", 400, "raw .. segment"),
    ("/sub/../../etc/passwd", 400, "nested .."),
    ("/%2e%2e/etc/passwd", 400, "encoded dot-dot"),
    ("/%2E%2E/%2E%2E/etc/passwd", 400, "upper-case encoded dot-dot"),
    ("/.%2e/etc/passwd", 400, "half-encoded dot-dot"),
    ("/..%2fetc%2fpasswd", 400, "encoded slash"),
    ("/%2fetc%2fpasswd", 400, "leading encoded slash"),
    ("/..%5c..%5cetc%5cpasswd", 400, "encoded backslash"),
    ("/..\\..\\etc\\passwd", 400, "raw backslash"),
    ("/hello.php%00.txt", 400, "NUL before extension"),
    ("/a.txt%00", 400, "trailing NUL"),
    ("/%c0%ae%c0%ae/etc/passwd", 400, "overlong UTF-8 dot"),
    ("/%c0%af", 400, "overlong UTF-8 slash"),
    ("/%e0%80%ae%e0%80%ae/x", 400, "3-byte overlong dot"),
    ("/%ed%a0%80", 400, "UTF-16 surrogate"),
    ("/%ff%fe", 400, "invalid UTF-8 bytes"),
    ("/%f4%90%80%80", 400, "code point above U+10FFFF"),
    ("/%zz", 400, "bad hex escape"),
    ("/%", 400, "truncated escape"),
    ("/a%4", 400, "short escape"),
    ("/./a.txt", 400, "single-dot segment"),
    ("/%01a.txt", 400, "control byte"),
    ("a.txt", 400, "target without leading slash"),
    ("/.env", 403, "dotfile"),
    ("/%2eenv", 403, "encoded dotfile"),
    ("/.git/config", 403, "dot directory"),
    ("/.hidden/file.txt", 403, "hidden directory file"),
    ("/sub/.env", 403, "nested dotfile path"),
    ("/link_out", 403, "symlink to a file outside the root"),
    ("/linkdir_out/secret.txt", 403, "symlinked directory outside the root"),
    ("/source_link.txt", 403, "symlink that exposes .php source"),
    ("/php_link.php", 403, "symlink .php to a non-.php file"),
]


def make_hostile_test(target, status, desc):
    def fn(p):
        c = Conn(p)
        c.send("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % target)
        r = c.read_response()
        c.close()
        eq(r.status, status, "%s (%s)" % (desc, target))
        check(b"root:" not in r.body and b"SECRET" not in r.body and b"<?php" not in r.body,
              "leaked content for %s" % target)
    fn.__name__ = "hostile: " + desc
    return fn


for _t, _s, _d in HOSTILE:
    test(make_hostile_test(_t, _s, _d))


@test
def hostile_double_encoding_is_literal(p):
    # %252e decodes once to the literal name "%2e%2e": no such file, so the front controller runs.
    r = get(p, "/%252e%252e/%252e%252e/etc/passwd")
    eq(r.status, 200, "front controller")
    check(b"root:" not in r.body, "no traversal")
    eq(r.json()["server"]["SCRIPT_NAME"], "/index.php", "routed to index.php")


@test
def hostile_php_source_never_served(p):
    for target in ("/hello.php", "/hello.PHP", "/HELLO.php", "/hello.php.", "/hello.php%20",
                   "/hello.php/", "/hello.php/x.txt", "/hello.php;.txt", "/hello.php?.txt",
                   "/hello.php%3f.txt", "/notes.php.txt"):
        r = get(p, target)
        check(b"<?php" not in r.body, "source leaked for %s: %r" % (target, r.body[:80]))
    eq(get(p, "/hello.php/").body, b"Hello, world!\n", "trailing slash is PATH_INFO '/'")


@test
def hostile_well_known_is_allowed(p):
    eq(get(p, "/.well-known/acme.txt").body, b"acme-token\n", ".well-known served")


@test
def hostile_huge_header_431(p):
    r = raw(p, "GET /hello.php HTTP/1.1\r\nHost: x\r\nX-Big: " + "a" * 20000 + "\r\n\r\n")
    eq(r.status if r else None, 431, "431")
    r = raw(p, "GET /hello.php HTTP/1.1\r\nHost: x\r\n" + "".join("X-H%d: v\r\n" % i for i in range(2000)) + "\r\n")
    eq(r.status if r else None, 431, "many headers -> 431")
    r = raw(p, "GET /" + "a" * 20000 + " HTTP/1.1\r\nHost: x\r\n\r\n")
    eq(r.status if r else None, 431, "huge request line -> 431")


@test
def hostile_huge_body_413(p):
    r = raw(p, "POST /input.php HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
    eq(r.status if r else None, 413, "Content-Length over the limit")
    c = Conn(p)
    c.send("POST /input.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b"z" * 65536)
    status = None
    try:
        for _ in range(40):
            c.send(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        status = c.read_response().status
    except (EOFError, ConnectionResetError):
        status = "closed"
    c.close()
    check(status in (413, "closed"), "chunked body over the limit: %s" % status)
    eq(get(p, "/hello.php").status, 200, "alive")


@test
def hostile_bad_content_length_400(p):
    for cl in ("abc", "-1", "1.5", "0x10", "1 2", "99999999999999999999999"):
        r = raw(p, "POST /input.php HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\n\r\n" % cl)
        check(r is not None and r.status in (400, 413), "Content-Length %r -> %s" % (cl, r and r.status))
        if cl != "99999999999999999999999":
            eq(r.status, 400, "Content-Length %r" % cl)
    r = raw(p, "POST /input.php HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
    eq(r.status, 400, "conflicting Content-Length")
    r = raw(p, "POST /input.php HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    eq(r.status, 400, "Content-Length with chunked (smuggling)")


@test
def hostile_malformed_requests(p):
    eq(raw(p, "GET / HTTP/1.1\r\n\r\n").status, 400, "missing Host")
    eq(raw(p, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status, 400, "two Host headers")
    r = raw(p, "GET / HTTP/2.0\r\nHost: x\r\n\r\n")
    check(r is None or r.status in (400, 505), "HTTP/2.0 request line: %s" % (r and r.status))
    eq(raw(p, "GARBAGE\r\n\r\n").status, 400, "garbage")
    eq(raw(p, "GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n").status, 400, "space in field name")
    eq(raw(p, b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n").status, 400, "NUL in a header value")
    eq(get(p, "/hello.php").status, 200, "alive")


# Request smuggling (RFC 9112 section 6.3): a head whose body length cannot be known is answered
# 400 (501 for a coding we do not decode) with Connection: close, and the bytes after it, here a
# complete second request, are never answered.
SMUGGLED = "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
SMUGGLING = [
    ("POST /hello.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + SMUGGLED,
     400, "TE gzip"),
    ("POST /hello.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
     "0\r\n\r\n" + SMUGGLED, 400, "TE chunked, identity"),
    ("POST /hello.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n" + SMUGGLED,
     400, "TE identity"),
    ("POST /hello.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"
     "0\r\n\r\n" + SMUGGLED, 400, "TE chunked then identity on two lines"),
    ("POST /hello.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"
     "0\r\n\r\n" + SMUGGLED, 400, "TE chunked twice"),
    ("POST /hello.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
     "0\r\n\r\n" + SMUGGLED, 501, "TE gzip then chunked (not implemented)"),
    ("POST /hello.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
     % (len(SMUGGLED), SMUGGLED), 400, "TE gzip with Content-Length"),
    ("POST /hello.php HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
     "0\r\n\r\n" + SMUGGLED, 400, "Content-Length with TE chunked, identity"),
    ("POST /hello.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
     "0\r\n\r\n" + SMUGGLED, 400, "TE chunked with Content-Length"),
    ("POST /hello.php HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
     "0\r\n\r\n" + SMUGGLED, 400, "TE on HTTP/1.0"),
    ("POST /hello.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n" + SMUGGLED, 400, "empty TE"),
    # Beast joins an obs-fold continuation line to the value: the combined list counts.
    ("POST /hello.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n , identity\r\n\r\n"
     "0\r\n\r\n" + SMUGGLED, 400, "TE folded onto a second line"),
]


def make_smuggling_test(data, status, desc):
    def fn(p):
        c = Conn(p)
        c.send(data)  # one sendall: the second request arrives in the same segment
        r = c.read_response()
        eq(r.status, status, desc)
        eq(r.header("connection", "").lower(), "close", "Connection: close")
        check(c.closed_by_peer(), "connection closed after the 400")
        check(b"HTTP/1." not in c.buf, "the smuggled request was answered: %r" % c.buf[:200])
        check(b"static text file" not in r.body, "smuggled response in the body")
        c.close()
        eq(get(p, "/a.txt").body, b"static text file\n", "alive")
    fn.__name__ = "hostile: smuggling " + desc
    return fn


for _d, _s, _n in SMUGGLING:
    test(make_smuggling_test(_d, _s, _n))


@test
def hostile_chunked_still_works(p):
    c = Conn(p)
    c.send("POST /input.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
           "3\r\nabc\r\n0\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    r = c.read_response()
    eq(r.status, 200, "chunked body")
    eq(r.json()["input"], "abc", "de-chunked body")
    r = c.read_response()
    eq(r.body, b"static text file\n", "the next pipelined request is answered")
    c.close()


HOST_BAD = ["x:-5", "x:12345678901234567890", "x:65536", "x:80a", "user@x", "x:80:80", "[::1",
            "[fe80::1%25eth0]", "a<b>", "x/y", "\x01x"]


@test
def hostile_invalid_host_400(p):
    for host in HOST_BAD:
        for target in ("/server.php", "/a.txt"):  # PHP and static requests alike
            c = Conn(p)
            c.send("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, host))
            r = c.read_response()
            eq(r.status, 400, "Host %r on %s" % (host, target))
            eq(r.header("connection", "").lower(), "close", "Connection: close")
            check(c.closed_by_peer(), "closed after an invalid Host")
            c.close()
    r = raw(p, "GET /a.txt HTTP/1.0\r\nHost: x:-5\r\n\r\n")
    eq(r.status, 400, "invalid Host on HTTP/1.0")
    r = raw(p, "GET /a.txt HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n")
    eq(r.status, 400, "two Host headers on HTTP/1.0")
    r = raw(p, "GET /a.txt HTTP/1.1\r\nHost: x\r\n :-5\r\n\r\n")
    eq(r.status, 400, "Host with an obs-fold")


@test
def host_valid_forms(p):
    for host, name, port in (("[::1]", "[::1]", str(p)), ("[2001:db8::7]:8443", "[2001:db8::7]", "8443"),
                             ("example.com:", "example.com", str(p)), ("Example.COM:00080", "Example.COM", "80"),
                             ("10.0.0.1:65535", "10.0.0.1", "65535")):
        s = get(p, "/server.php", host=host).json()
        eq((s["SERVER_NAME"], s["SERVER_PORT"]), (name, port), "Host %r" % host)
        eq(s["HTTP_HOST"], host, "HTTP_HOST as received")
    eq(get(p, "/a.txt", host="[::1]:1").status, 200, "static with an IPv6 Host")


@test
def hostile_slowloris_header_timeout(p):
    c = Conn(p, timeout=10)
    c.send("GET /hello.php HTTP/1.1\r\nHost: x\r\n")
    t0 = time.time()
    for i in range(10):
        try:
            c.send("X-Slow-%d: 1\r\n" % i)
        except (BrokenPipeError, ConnectionResetError):
            break
        time.sleep(0.4)
        if c.closed_by_peer(0.01):
            break
    closed = c.closed_by_peer(5)
    dt = time.time() - t0
    c.close()
    check(closed, "slow client not cut")
    check(dt < 6, "cut after %.1f s (header_read = 2)" % dt)
    eq(get(p, "/hello.php").status, 200, "alive")


@test
def hostile_idle_connection_closed(p):
    c = Conn(p, timeout=10)
    t0 = time.time()
    check(c.closed_by_peer(8), "idle connection closed")
    check(time.time() - t0 >= 2.5, "not before the idle timeout")
    c.close()


# ------------------------------------------------------------------------------------------------
# Separate servers: 503 on a full queue, SIGTERM drain, config errors
# ------------------------------------------------------------------------------------------------


def base_config(docroot, extra="", php_extra=""):
    return ('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "%s"\n%s\n'
            '[php]\nmax_execution_time = 10\n%s\n[kv]\nmemory_limit = "16MB"\n' % (docroot, extra, php_extra))


def md5hex(b):
    return hashlib.md5(b).hexdigest()


@test
def large_bodies_reach_php_intact(p):
    # Bodies above body_buffer_size (64 KB here) go to a temp file while they are read; PHP
    # reads them from there: php://input, $_POST, multipart uploads, chunked bodies.
    cfg = base_config(CTX.docroot, '[server.request]\nmax_body_size = "16MB"\nbody_buffer_size = "64KB"\n',
                      'workers = 1\n[php.ini]\nupload_max_filesize = "16M"')
    srv = Server(CTX.binary, CTX.workdir, cfg, "bigbody")
    srv.start()
    try:
        data = os.urandom(5 << 20)
        r = request(srv.port, "PUT", "/body_md5.php", body=data, timeout=60)
        d = r.json()
        eq((d["input_len"], d["input_md5"], d["content_length"]), (len(data), md5hex(data), str(len(data))),
           "php://input of a 5 MB body")
        text = data.hex()[: 5 << 20].encode()
        form = b"f=" + text + b"&g=1"
        r = request(srv.port, "POST", "/body_md5.php", body=form, timeout=60,
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        eq(r.json()["post_md5"], md5hex(text), "$_POST field of a 5 MB form")
        boundary = "----ephpmbig"
        body = (("--%s\r\nContent-Disposition: form-data; name=\"up\"; filename=\"f.bin\"\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n" % boundary).encode()
                + data + ("\r\n--%s--\r\n" % boundary).encode())
        r = request(srv.port, "POST", "/body_md5.php", body=body, timeout=60,
                    headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
        f = r.json()["files"]["up"]
        eq((f["size"], f["error"], f["md5"]), (len(data), 0, md5hex(data)), "5 MB multipart upload")
        # Chunked: the server cannot know the size up front; it spills once past 64 KB.
        c = Conn(srv.port, timeout=60)
        try:
            c.send(b"POST /body_md5.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                   b"Connection: close\r\n\r\n")
            for i in range(0, len(data), 300000):
                piece = data[i:i + 300000]
                c.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
            c.send(b"0\r\n\r\n")
            d = c.read_response().json()
        finally:
            c.close()
        eq((d["input_len"], d["input_md5"]), (len(data), md5hex(data)), "php://input of a chunked 5 MB body")
        # Small bodies stay in memory and are read the same way.
        r = request(srv.port, "PUT", "/body_md5.php", body=b"small")
        eq(r.json()["input_md5"], md5hex(b"small"), "small body")
    finally:
        srv.stop(signal.SIGKILL)


@test
def buffered_bodies_cap_503(p):
    # body_buffer_size 4 MB keeps 1 MB bodies in memory; max_buffered_bodies 1.5 MB lets one at a
    # time be buffered: a second one arriving while the first is held gets 503 + Retry-After,
    # before its body is read; a small body still passes. The server counts a body before it
    # sends 100 Continue, so that answer (not a pause) says the held 1 MB is counted.
    cfg = base_config(CTX.docroot, '[server.request]\nmax_body_size = "8MB"\nbody_buffer_size = "4MB"\n'
                      'max_buffered_bodies = "1536KB"\n', "workers = 1")
    srv = Server(CTX.binary, CTX.workdir, cfg, "bodycap")
    srv.start()
    try:
        big = os.urandom(1 << 20)
        hold = Conn(srv.port, timeout=30)  # its 1 MB is counted from its headers until it ends
        hold.send(b"PUT /body_md5.php HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                  b"Expect: 100-continue\r\n\r\n" % len(big))
        eq((hold._line(), hold._line()), (b"HTTP/1.1 100 Continue", b""), "the held body is counted")
        hold.send(big[:1000])
        r = request(srv.port, "PUT", "/body_md5.php", body=big, timeout=30)
        eq(r.status, 503, "a second 1 MB body beyond max_buffered_bodies")
        eq(r.header("retry-after"), "1", "Retry-After")
        r = request(srv.port, "PUT", "/body_md5.php", body=b"x" * 1000)
        eq(r.status, 200, "a small body passes")
        eq(r.json()["input_md5"], md5hex(b"x" * 1000), "small body intact")
        # A chunked body counted as it grows: 503 once it passes the cap.
        c = Conn(srv.port, timeout=30)
        try:
            c.send(b"PUT /body_md5.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            try:
                for i in range(0, len(big), 65536):
                    c.send(b"%x\r\n" % 65536 + big[i:i + 65536] + b"\r\n")
                c.send(b"0\r\n\r\n")
            except OSError:
                pass  # the server answered and closed
            eq(c.read_response().status, 503, "a chunked body past the cap")
        finally:
            c.close()
        hold.send(big[1000:])
        d = hold.read_response().json()
        hold.close()
        eq(d["input_md5"], md5hex(big), "the held body completes intact")
        # The count is given back when PHP has ended the request, after its response went out
        # (request shutdown runs then). One PHP thread (workers = 1): once it has answered
        # another request, the held one has ended.
        eq(get(srv.port, "/hello.php").status, 200, "the PHP thread moved on")
        r = request(srv.port, "PUT", "/body_md5.php", body=big, timeout=30)
        eq(r.status, 200, "the count was given back when the request ended")
        eq(r.json()["input_md5"], md5hex(big), "1 MB in-memory body intact")
    finally:
        srv.stop(signal.SIGKILL)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@test
def slow_large_bodies_do_not_grow_rss(p):
    # 20 connections each send 4 MB slowly: the bodies are in temp files, not in the worker's
    # memory (80 MB if they were buffered).
    cfg = base_config(CTX.docroot, '[server.request]\nmax_body_size = "8MB"\n', "workers = 1")
    srv = Server(CTX.binary, CTX.workdir, cfg, "slowbodies")
    srv.start()
    conns = []
    try:
        get(srv.port, "/hello.php")
        before = rss_kb(srv.proc.pid)
        data = os.urandom(4 << 20)
        for _ in range(20):
            c = Conn(srv.port, timeout=60)
            c.send(b"PUT /body_md5.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(data))
            conns.append(c)
        step, sent = 256 << 10, 0
        while sent < len(data) - step:  # all but the last piece, round-robin
            for c in conns:
                c.send(data[sent:sent + step])
            sent += step
            time.sleep(0.02)
        time.sleep(0.5)
        held = rss_kb(srv.proc.pid)
        spooled = 0
        fd_dir = "/proc/%d/fd" % srv.proc.pid
        for fd in os.listdir(fd_dir):
            try:
                if os.readlink(os.path.join(fd_dir, fd)).endswith("(deleted)"):
                    spooled += 1
            except OSError:
                pass
        print("    RSS %d KB before, %d KB with 20 x 4 MB bodies in flight (+%d KB); %d temp files"
              % (before, held, held - before, spooled))
        check(spooled >= 20, "each body is in an unlinked temp file: %d" % spooled)
        check(held - before < 40 * 1024, "RSS grew by %d KB" % (held - before))
        for c in conns:
            c.send(data[sent:])
        for c in conns:
            eq(c.read_response().json()["input_md5"], md5hex(data), "slow 4 MB body intact")
    finally:
        for c in conns:
            c.close()
        srv.stop(signal.SIGKILL)


@test
def queue_full_503(p):
    # One PHP worker process, so that one queue of 1 is the whole capacity.
    srv = Server(CTX.binary, CTX.workdir, base_config(CTX.docroot, "php_queue_size = 1", "workers = 1"),
                 "queue")
    srv.start()
    try:
        results = {}
        # Queue of 1: request A runs, request B waits in the queue, request C gets 503.
        conns = [Conn(srv.port, timeout=30) for _ in range(2)]

        def slow(i):
            results[i] = conns[i].read_response().status

        threads = [threading.Thread(target=slow, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        conns[0].send("GET /sleep.php?s=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        time.sleep(0.5)  # A is popped by the PHP thread and runs
        conns[1].send("GET /sleep.php?s=0.5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        time.sleep(0.3)  # B sits in the queue
        r = get(srv.port, "/hello.php")
        eq(r.status, 503, "request with a full queue")
        eq(r.header("retry-after"), "1", "Retry-After")
        eq(get(srv.port, "/a.txt").status, 200, "static files still served")
        for t in threads:
            t.join()
        for c in conns:
            c.close()
        eq(results, {0: 200, 1: 200}, "the running and the queued request complete")
        eq(get(srv.port, "/hello.php").status, 200, "served again once the queue drained")
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def sigterm_drains_then_exits_0(p):
    srv = Server(CTX.binary, CTX.workdir, base_config(CTX.docroot), "drain")
    srv.start()
    result = {}

    def slow():
        try:
            result["r"] = get(srv.port, "/sleep.php?s=1.5")
        except Exception as e:  # noqa
            result["e"] = e

    idle = Conn(srv.port)
    idle.send("GET /hello.php HTTP/1.1\r\nHost: x\r\n\r\n")
    idle.read_response()
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.4)
    t0 = time.time()
    os.kill(srv.proc.pid, signal.SIGTERM)
    t.join()
    rc = srv.proc.wait(20)
    check("r" in result, "in-flight request failed: %r" % result.get("e"))
    eq(result["r"].status, 200, "in-flight request completed")
    eq(result["r"].body, b"slept 1.5\n", "in-flight body")
    check(idle.closed_by_peer(2), "idle keep-alive connection closed")
    idle.close()
    eq(rc, 0, "exit code after SIGTERM")
    check(time.time() - t0 < 10, "drain took too long")
    try:
        socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
        refused = False
    except OSError:
        refused = True
    check(refused, "listener closed")


@test
def sigint_exits_0(p):
    srv = Server(CTX.binary, CTX.workdir, base_config(CTX.docroot), "sigint")
    srv.start()
    eq(get(srv.port, "/hello.php").status, 200, "serving")
    eq(srv.stop(signal.SIGINT), 0, "exit code after SIGINT")


def read_chunked_body_of_s(conn, timeout=60):
    """Reads a chunked 200 response whose body is all b"s" (stream_big.php) without keeping it:
    returns the number of body bytes, or -1 when a byte is not "s"."""
    conn.sock.settimeout(timeout)
    raw = bytearray(conn.buf)
    while not raw.endswith(b"\r\n0\r\n\r\n"):
        chunk = conn.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("connection closed")
        raw += chunk
    head_end = raw.index(b"\r\n\r\n")
    check(raw.startswith(b"HTTP/1.1 200"), "status line %r" % bytes(raw[:40]))
    pos, total = head_end + 4, 0
    while True:
        eol = raw.index(b"\r\n", pos)
        size = int(bytes(raw[pos:eol]).split(b";")[0], 16)
        if size == 0:
            return total
        if raw.count(b"s", eol + 2, eol + 2 + size) != size:
            return -1
        total += size
        pos = eol + 2 + size + 2


@test
def slow_reader_does_not_hold_php(p):
    # One PHP thread (workers = 1). A client that does not read a 48 MiB streamed response (more
    # than the kernel's socket buffers hold): the output goes to the server's buffer (memory, then
    # a temp file), the script runs to its end and the PHP thread serves the next requests at
    # once; the client still gets every byte, in order.
    srv = Server(CTX.binary, CTX.workdir, base_config(CTX.docroot, "", "workers = 1"), "slowread")
    srv.start()
    try:
        key = "slowread-%d" % os.getpid()
        c = Conn(srv.port, timeout=30)
        c.send("GET /stream_big.php?mb=48&key=%s HTTP/1.1\r\nHost: x\r\n\r\n" % key)
        t0 = time.time()
        done = None
        while time.time() - t0 < 10:
            eq(get(srv.port, "/hello.php").status, 200, "PHP answers while the slow client reads nothing")
            if get(srv.port, "/worker.php?get=" + key).json()["v"] == "finished":
                done = time.time() - t0
                break
            time.sleep(0.1)
        check(done is not None, "the 48 MiB script did not finish while its client was not reading")
        t1 = time.time()
        eq(get(srv.port, "/hello.php").body, b"Hello, world!\n", "PHP thread free")
        check(time.time() - t1 < 1, "hello waited %.1f s" % (time.time() - t1))
        eq(read_chunked_body_of_s(c), 48 << 20, "the slow client got the whole body, intact")
        c.close()
        print("    script finished %.2f s after the request while its client read nothing" % done)
    finally:
        eq(srv.stop(), 0, "exit code")


@test
def sigterm_keepalive_load_no_failed_request(p):
    # Single-process mode: every request sent on an open keep-alive connection is answered
    # (the last one on each connection with Connection: close), none is dropped by the drain.
    srv = Server(CTX.binary, CTX.workdir, base_config(CTX.docroot, "", "workers = 1"), "drain-ka")
    srv.start()
    try:
        with KeepAliveLoad(srv.port, "/sleep.php?s=0.01", conns=8, reconnect=False) as load:
            load.wait_until_all_answered()
            os.kill(srv.proc.pid, signal.SIGTERM)
            rc = srv.proc.wait(20)
        eq(load.errors, [], "requests failed during the drain (%s)" % load.summary())
        check(len(load.ok) >= 32, "load ran: " + load.summary())
        eq(rc, 0, "exit code after SIGTERM")
        print("    " + load.summary())
    finally:
        srv.stop(signal.SIGKILL)


@test
def sigterm_cancels_kv_wait(p):
    # max_execution_time = 0: nothing else would end a 60 s ephpm_kv_wait before the drain budget.
    cfg = base_config(CTX.docroot, "", "workers = 1").replace("max_execution_time = 10",
                                                              "max_execution_time = 0")
    srv = Server(CTX.binary, CTX.workdir, cfg, "drain-wait")
    srv.start()
    result = {}

    def wait():
        try:
            result["r"] = get(srv.port, "/waitfor.php?key=drain-%d&ms=60000" % os.getpid(), timeout=60)
        except Exception as e:  # noqa
            result["e"] = e

    t = threading.Thread(target=wait)
    t.start()
    try:
        time.sleep(0.5)
        t0 = time.time()
        os.kill(srv.proc.pid, signal.SIGTERM)
        rc = srv.proc.wait(40)
        took = time.time() - t0
        t.join()
        check("r" in result, "the waiting request failed: %r" % result.get("e"))
        eq(result["r"].status, 200, "the waiting request was answered")
        eq(result["r"].json()["result"], False, "ephpm_kv_wait returned false")
        eq(rc, 0, "exit code after SIGTERM")
        check(took < 3, "the drain ended the wait: exit %.2f s after SIGTERM" % took)
        print("    exited %.2f s after SIGTERM" % took)
    finally:
        srv.stop(signal.SIGKILL)


def serve_config_error(path, *extra):
    """Runs `ephpm serve --config path` expecting a config error: exit 2, nothing listening.
    A hang (e.g. reading a FIFO) fails on the timeout instead of blocking the suite."""
    r = subprocess.run([CTX.binary, "serve", "--config", path] + list(extra), capture_output=True,
                       text=True, timeout=15)
    eq(r.returncode, 2, "exit code of a config error (stderr: %s)" % r.stderr.strip())
    check("listening on" not in r.stdout, "started anyway: " + r.stdout)
    return r.stderr


@test
def config_errors_exit_2(p):
    bad = os.path.join(CTX.workdir, "bad.toml")
    with open(bad, "w") as f:
        f.write('[kv]\neviction_policy = "lru"\n')
    err = serve_config_error(bad)
    check('[kv] eviction_policy: unknown policy "lru"' in err, err)
    check(bad in err, "names the file")
    err = serve_config_error(os.path.join(CTX.workdir, "missing.toml"))
    check("cannot read config file" in err, "explicit missing config: " + err)
    with open(bad, "w") as f:
        f.write('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "/nonexistent/dir"\n')
    err = serve_config_error(bad)
    check("document root" in err, "missing docroot: " + err)
    with open(bad, "w") as f:
        f.write('[server]\nlisten = "127.0.0.1:0"\nbogus = 1\n')
    err = serve_config_error(bad)
    check("[server] bogus: unknown key" in err, "unknown key: " + err)


@test
def config_file_not_a_regular_file_exit_2(p):
    # /dev/zero was read until the OOM killer came, a FIFO hung for ever.
    fifo = os.path.join(CTX.workdir, "fifo.toml")
    os.mkfifo(fifo)
    big = os.path.join(CTX.workdir, "big.toml")
    with open(big, "w") as f:
        f.write("#" * (1 << 20) + "\n")
    cases = [(fifo, "not a regular file (a FIFO)"), ("/dev/zero", "not a regular file (a character device)"),
             (CTX.workdir, "is a directory"), (big, "larger than 1 MB (1048577 bytes)")]
    for path, reason in cases:
        err = serve_config_error(path)
        check("%s: cannot read config file: %s" % (path, reason) in err, err)
    # The same through EPHPM_CONFIG, and for [php] ini_file.
    r = subprocess.run([CTX.binary, "serve"], capture_output=True, text=True, timeout=15,
                       env=dict(os.environ, EPHPM_CONFIG=fifo), cwd=CTX.workdir)
    eq(r.returncode, 2, "EPHPM_CONFIG=fifo: " + r.stderr)
    cfg = os.path.join(CTX.workdir, "inifile.toml")
    with open(cfg, "w") as f:
        f.write(base_config(CTX.docroot, php_extra='ini_file = "%s"' % fifo))
    err = serve_config_error(cfg)
    check('[php] ini_file: "%s": not a regular file (a FIFO)' % fifo in err, err)
    os.unlink(fifo)
    os.unlink(big)


@test
def implausible_values_exit_2(p):
    cfg = os.path.join(CTX.workdir, "implausible.toml")
    with open(cfg, "w") as f:
        f.write(base_config(CTX.docroot) + '[log]\naccess_log = "/"\n')
    err = serve_config_error(cfg)
    check('[log] access_log: "/": is a directory' in err, err)
    with open(cfg, "w") as f:
        f.write(base_config(CTX.docroot).replace('memory_limit = "16MB"', 'memory_limit = "1048576GB"'))
    err = serve_config_error(cfg)
    check("[kv] memory_limit: size 1125899906842624 bytes is more than this machine's physical memory" in err, err)
    with open(cfg, "w") as f:
        f.write(base_config(CTX.docroot) + '[php.ini]\n"a\\u0000b" = 1\n')
    err = serve_config_error(cfg)
    check('[php.ini] "a\\x00b": invalid INI directive name' in err, err)


@test
def worker_script_errors_exit_2(p):
    cfg = os.path.join(CTX.workdir, "worker-cfg.toml")
    with open(cfg, "w") as f:
        f.write(base_config(CTX.docroot, php_extra='mode = "worker"'))
    err = serve_config_error(cfg)
    check("[php] worker_script: required when [php] mode = \"worker\"" in err, err)
    with open(cfg, "w") as f:
        f.write(base_config(CTX.docroot, php_extra='mode = "worker"\nworker_script = "no-such-worker.php"'))
    err = serve_config_error(cfg)
    check('%s: [php] worker_script: "%s/no-such-worker.php": No such file or directory' % (cfg, CTX.docroot) in err, err)
    # --document-root moves the worker script with it: hello.php is in the fixtures' document
    # root, not in the work directory.
    with open(cfg, "w") as f:
        f.write(base_config(CTX.docroot, php_extra='mode = "worker"\nworker_script = "hello.php"'))
    err = serve_config_error(cfg, "--document-root", CTX.workdir)
    check('[php] worker_script: "%s/hello.php": No such file or directory' % CTX.workdir in err, err)


def traced_child(tracer, argv):
    """The pid of the tracer's child that runs argv, or None (strace forks short-lived children
    of its own, to probe the kernel, before the one that runs the program)."""
    try:
        with open("/proc/%d/task/%d/children" % (tracer, tracer)) as f:
            kids = f.read().split()
    except OSError:
        return None
    for kid in kids:
        try:
            with open("/proc/%s/cmdline" % kid, "rb") as f:
                if f.read().split(b"\0")[:len(argv)] == [a.encode() for a in argv]:
                    return int(kid)
        except OSError:
            pass
    return None


@test
def sigterm_while_the_config_loads_ends_the_process(p):
    # strace holds `ephpm serve` inside the openat() of its config file for 5 s; SIGTERM sent
    # then must end the process. Were SIGTERM blocked while the config loads, it would stay
    # pending, the server would start ("listening on") and then drain and exit 0.
    strace = shutil.which("strace")
    check(strace is not None, "strace is needed for this test (scripts/deps.sh installs it)")
    openat = {"x86_64": 257, "aarch64": 56}[os.uname().machine]
    cfg = os.path.join(CTX.workdir, "slow.toml")
    with open(cfg, "w") as f:
        f.write(base_config(CTX.docroot))
    serve = [CTX.binary, "serve", "--config", cfg]
    proc = subprocess.Popen([strace, "-qq", "-o", "/dev/null", "-P", cfg, "-e", "trace=openat",
                             "-e", "inject=openat:delay_enter=5000000"] + serve,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tracee = None
    try:
        held = 0
        deadline = time.time() + 20
        while held < 3 and time.time() < deadline:  # three polls in a row: inside that openat()
            time.sleep(0.05)
            tracee = tracee or traced_child(proc.pid, serve)
            try:
                with open("/proc/%d/syscall" % tracee) as f:
                    held = held + 1 if f.read().split()[0] == str(openat) else 0
            except (OSError, TypeError):
                held = 0
        check(held >= 3, "ephpm serve never sat in the delayed openat() of its config")
        os.kill(tracee, signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        # Killing strace detaches its tracee, which would run on: stop both.
        for pid in (tracee, proc.pid):
            if pid is not None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        proc.wait()
    eq(proc.returncode, -signal.SIGTERM, "killed by SIGTERM (strace mirrors it); stderr: " + err)
    check("listening on" not in out, "the server started although SIGTERM came while loading: " + out)


@test
def access_log_written(p):
    log = os.path.join(CTX.workdir, "access.log")
    srv = Server(CTX.binary, CTX.workdir, base_config(CTX.docroot) + '[log]\naccess_log = "%s"\n' % log, "alog")
    srv.start()
    try:
        eq(get(srv.port, "/hello.php?x=1").status, 200, "php")
        eq(get(srv.port, "/a.txt").status, 200, "static")
        eq(get(srv.port, "/.env").status, 403, "denied")
    finally:
        eq(srv.stop(), 0, "exit code")
    with open(log) as f:
        lines = f.read().splitlines()
    eq(len(lines), 3, "three access log lines: %r" % lines)
    # Each worker process appends its own lines, so the order across workers is not guaranteed.
    php = [l for l in lines if "/hello.php" in l]
    check(len(php) == 1 and re.match(r'127\.0\.0\.1 - - \[[^]]+\] "GET /hello\.php\?x=1 HTTP/1\.1" 200 14 \d+$',
                                     php[0]), lines)
    check(any('"GET /a.txt HTTP/1.1" 200 17 ' in l for l in lines), lines)
    check(any('"GET /.env HTTP/1.1" 403 ' in l for l in lines), lines)


@test
def cli_overrides_and_kv_warning(p):
    cfg = os.path.join(CTX.workdir, "overrides-src.toml")
    with open(cfg, "w") as f:
        f.write('[server]\nlisten = "127.0.0.1:1"\ndocument_root = "/nonexistent"\n[kv]\nsecret = "s3cret"\n')
    srv = Server(CTX.binary, CTX.workdir, "", "ovr")
    srv.config = cfg
    out = open(srv.stdout_path, "w")
    err = open(srv.stderr_path, "w")
    srv.proc = subprocess.Popen([CTX.binary, "serve", "--config", cfg, "--listen", "127.0.0.1:0",
                                 "--document-root", CTX.docroot], stdout=out, stderr=err)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and srv.port is None:
            with open(srv.stdout_path) as f:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", f.read())
            if m:
                srv.port = int(m.group(1))
            time.sleep(0.05)
        check(srv.port, "started with overrides: " + srv.stderr())
        eq(get(srv.port, "/hello.php").body, b"Hello, world!\n", "document root override")
        check("[kv] secret: ePHPm setting not implemented" in srv.stderr(), "kv warning printed")
    finally:
        eq(srv.stop(), 0, "exit code")


# ------------------------------------------------------------------------------------------------


def setup_docroot(workdir):
    docroot = os.path.join(workdir, "public")
    shutil.copytree(FIXTURES, docroot, symlinks=True)
    os.makedirs(os.path.join(docroot, ".git"))
    with open(os.path.join(docroot, ".git", "config"), "w") as f:
        f.write("[core] SECRET\n")
    outside = os.path.join(workdir, "outside")
    os.makedirs(outside)
    with open(os.path.join(outside, "secret.txt"), "w") as f:
        f.write("SECRET outside the document root\n")
    with open(os.path.join(outside, "secret.php"), "w") as f:
        f.write("<?php echo 'SECRET executed';\n")
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(docroot, "link_out"))
    os.symlink(outside, os.path.join(docroot, "linkdir_out"))
    os.symlink("hello.php", os.path.join(docroot, "source_link.txt"))
    os.symlink("a.txt", os.path.join(docroot, "php_link.php"))
    return docroot


def setup():
    CTX.docroot = setup_docroot(CTX.workdir)
    CTX.docroot_real = os.path.realpath(CTX.docroot)
    os.environ["EPHPM_E2E_ENV"] = "from-environment"
    main_cfg = ('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "public"\n'
                '[server.request]\nmax_body_size = "1MB"\nmax_header_size = "8KB"\n'
                '[server.timeouts]\nheader_read = 2\nidle = 3\nrequest = 10\n'
                '[php]\nmax_execution_time = 2\n[php.ini]\ndisplay_errors = false\n'
                '[kv]\nmemory_limit = "32MB"\n[log]\nlevel = "warn"\n')
    return Server(CTX.binary, CTX.workdir, main_cfg, "main")


if __name__ == "__main__":
    SUITE.main(setup, private_binary=False)
