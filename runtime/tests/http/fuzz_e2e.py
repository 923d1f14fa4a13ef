#!/usr/bin/env python3
"""HTTP fuzz test of `ephpm serve`: thousands of mutated requests against one running server.

Usage: fuzz_e2e.py path/to/ephpm
Environment: EPHPM_FUZZ_SEED (default 20261205; printed so a failure can be replayed),
EPHPM_FUZZ_REQUESTS (default 20000), EPHPM_FUZZ_BATCH (default 500), EPHPM_FUZZ_CLIENTS (default 8).

The document root is e2e.py's fixture tree (with its secrets outside the root, .git/ and symlinks
pointing out). Every request is generated up front from the seed: valid seed requests (static,
PHP, chunked and Content-Length bodies, HTTP/1.0, pipelined pairs, traversal targets) mutated by
byte flips, inserted CR/LF/NUL/separators, duplicated or removed header lines, huge/negative
numbers, changed methods/versions/targets/Hosts, obs-folds and truncations; and Transfer-Encoding
/ Content-Length / version combinations checked against an independent model of RFC 9112
section 6.3 (status, Connection: close, and that the request smuggled behind a refused one is
never answered). Each request goes on its own connection, followed by a write shutdown.

Checked for every answer: empty (the server may just close) or a well-formed HTTP/1.x response
with a status in 100..599; never a file or PHP source from outside what the server may serve.
Between batches: the server process is alive and answers normal static, PHP and POST requests
with the right bodies. Prints `N passed, M failed` (one check per batch, plus the model cases and
the final SIGTERM) and exits non-zero on failure.
"""
import collections
import os
import random
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import e2e  # noqa: E402  (the fixture tree and the server process helper)

# Text that must never appear in an answer: files outside the document root or hidden, PHP source.
LEAK_MARKERS = [b"SECRET outside the document root", b"[core] SECRET", b"SECRET executed",
                b"root:x:0:0:", b"echo \"Hello, world!", b"file_get_contents('php://input')",
                b"json_encode(['front' => true"]

SMUGGLED = b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Smuggled: 1\r\n\r\n"
STATIC_BODY = b"static text file\n"


def seed_requests():
    reqs = [
        b"GET /hello.php HTTP/1.1\r\nHost: localhost\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n",
        b"GET /a.txt HTTP/1.1\r\nHost: localhost:8080\r\nRange: bytes=0-5\r\n\r\n",
        b"HEAD /a.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: W/\"1-2\"\r\n\r\n",
        b"GET /server.php/p/i?x=1&y=%20 HTTP/1.1\r\nHost: [::1]:9000\r\nCookie: a=1\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n",
        b"POST /input.php?a=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 11\r\n\r\np=1&q%5B%5D=2",
        b"POST /input.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n"
        b"0123456789abcdef\r\n0\r\n\r\n",
        b"PUT /input.php HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody",
        b"GET /hello.php HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /a.txt HTTP/1.0\r\n\r\n",
        b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /linkdir_out/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /link_out HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /.git/config HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /source_link.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /%2e%2e/outside/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET http://x/linkdir_out/secret.php HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /index.php?q=1 HTTP/1.1\r\nHost: example.com\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        b"DELETE /a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /dir HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    return reqs


INSERTS = [b"\r", b"\n", b"\r\n", b"\x00", b" ", b"\t", b":", b",", b";", b"\r\n\r\n", b"%", b"\xff",
           b"\x7f", b"/../", b"\r\n ", b"\\"]
NUMBERS = [b"-1", b"0", b"-0", b"+5", b"99999999999999999999", b"18446744073709551616",
           b"18446744073709551615", b"4294967296", b"65536", b"1e9", b"0x10", b"007", b" 5", b"",
           b"2147483648", b"ffffffffffffffff"]
METHODS = [b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"TRACE", b"CONNECT", b"PATCH",
           b"PRI", b"get", b"G ET", b"", b"X" * 300, b"GET\x00"]
VERSIONS = [b"HTTP/1.0", b"HTTP/1.1", b"HTTP/0.9", b"HTTP/2.0", b"HTTP/1.10", b"http/1.1", b"HTTP/1",
            b"HTTP/01.1", b"HTTP/1.1 ", b"HTTP/9.9", b"HTTP/1.1\x00"]
TARGETS = [b"/", b"*", b"/a.txt", b"/hello.php", b"//a.txt", b"/a.txt%00", b"/..", b"/%2e%2e/",
           b"/linkdir_out/secret.php", b"/php_link.php", b"/hello.php/..", b"/.env", b"/%c0%ae%c0%ae/",
           b"http://evil/a.txt", b"/" + b"a" * 5000, b"/a.txt?" + b"q" * 100, b"/\xff\xfe", b""]
HOSTS = [b"x:-5", b"x:12345678901234567890", b"x:65536", b"[::1", b"[::1]:80", b"user@x", b"a b",
         b"", b"x:", b"[v1.x]", b"x:0", b"%zz", b"\xc3\xa9", b"x" * 300]
HEADERS = [b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip", b"Content-Length: 0",
           b"Content-Length: 5", b"Content-Length: -1", b"Expect: 100-continue", b"Expect: nope",
           b"Connection: close", b"Connection: keep-alive, Upgrade", b"Upgrade: websocket",
           b"Host: second", b"Range: bytes=0-0,5-", b"If-Range: x", b"X_Under: 1", b"Cookie: ;;;=",
           b": empty-name", b"NoColon", b"X: " + b"v" * 4000]


def header_lines(req):
    """(start, end) offsets of header lines (after the request line, before the blank line)."""
    end = req.find(b"\r\n\r\n")
    if end < 0:
        return []
    out, pos = [], req.find(b"\r\n") + 2
    while 0 < pos < end + 2:
        nxt = req.find(b"\r\n", pos)
        if nxt < 0 or nxt > end:
            break
        out.append((pos, nxt + 2))
        pos = nxt + 2
    return out


def mutate(rng, req):
    kind = rng.randrange(14)
    if not req:
        return rng.choice(seed_requests())
    if kind == 0:  # flip bits
        b = bytearray(req)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if kind == 1:  # insert separators / control bytes
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(req) + 1)
            req = req[:i] + rng.choice(INSERTS) + req[i:]
        return req
    lines = header_lines(req)
    if kind == 2 and lines:  # duplicate a header line
        a, b = rng.choice(lines)
        return req[:b] + req[a:b] * rng.randint(1, 3) + req[b:]
    if kind == 3 and lines:  # remove a header line
        a, b = rng.choice(lines)
        return req[:a] + req[b:]
    if kind == 4:  # numbers
        runs = [m.span() for m in re.finditer(rb"\d+", req)]
        if runs:
            a, b = rng.choice(runs)
            return req[:a] + rng.choice(NUMBERS) + req[b:]
    if kind == 5:  # truncate
        return req[:rng.randrange(len(req))]
    if kind == 6:  # method
        sp = req.find(b" ")
        if sp >= 0:
            return rng.choice(METHODS) + req[sp:]
    if kind == 7:  # version
        m = re.search(rb"HTTP/1\.[01]", req)
        if m:
            return req[:m.start()] + rng.choice(VERSIONS) + req[m.end():]
    if kind == 8:  # target
        parts = req.split(b" ", 2)
        if len(parts) == 3:
            return parts[0] + b" " + rng.choice(TARGETS) + b" " + parts[2]
    if kind == 9:  # Host value
        m = re.search(rb"(?i)\r\nHost: [^\r]*", req)
        if m:
            return req[:m.start()] + b"\r\nHost: " + rng.choice(HOSTS) + req[m.end():]
    if kind == 10 and lines:  # add a header line
        a, _ = rng.choice(lines)
        return req[:a] + rng.choice(HEADERS) + b"\r\n" + req[a:]
    if kind == 11 and lines:  # obs-fold or header-name case
        a, b = rng.choice(lines)
        line = req[a:b]
        if rng.random() < 0.5:
            colon = line.find(b":")
            line = line[:colon + 1] + b"\r\n " + line[colon + 1:] if colon >= 0 else line
        else:
            line = bytes(c ^ 0x20 if 65 <= (c & ~0x20) <= 90 and rng.random() < 0.5 else c for c in line)
        return req[:a] + line + req[b:]
    if kind == 12:  # pipeline another request behind it
        return req + rng.choice(seed_requests())
    # random bytes
    i = rng.randrange(len(req) + 1)
    return req[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + req[i:]


# ------------------------------------------------------------------------------------------------
# Transfer-Encoding / Content-Length combinations with a model of the expected answer
# ------------------------------------------------------------------------------------------------

TE_VALUES = ["chunked", "Chunked", "gzip", "identity", "chunked, identity", "gzip, chunked",
             "chunked, chunked", "", " , ", "chunked,", "deflate", "chunked;q=1", "x-chunked"]
BODY = b"abc"
CL_VALUES = [("3", 3), ("3, 3", 3), ("03", 3), (" 3 ", 3), ("-3", None), ("3, 4", None),
             ("abc", None), ("", None), ("3,", None), ("0x3", None),
             ("99999999999999999999999", None), ("4294967296", 4294967296)]


MAX_BODY = 64 * 1024  # [server.request] max_body_size below


def model(version, te_lines, cl_lines):
    """The statuses ephpm may answer with: {200} (accepted) or refusals among 400, 413, 501.

    Lines are in the order sent. Boost.Beast's parser refuses some heads itself before ephpm's
    check runs, always with 400 or 413 and a closed connection, so those are allowed where it does.
    """
    too_big = any(v is not None and v > MAX_BODY for _, v in cl_lines)
    if te_lines:
        codings = [e.strip(" \t") for line in te_lines for e in line.split(",") if e.strip(" \t")]
        chunked = [c.lower() == "chunked" for c in codings]
        if version == "1.0" or cl_lines or not codings or not chunked[-1] or sum(chunked) > 1:
            return {400, 413} if too_big else {400}
        # Beast refuses a Transfer-Encoding line after one that ended in chunked (parameters
        # such as "chunked;q=1" ignored).
        for line in te_lines[:-1]:
            elems = [e.strip(" \t") for e in line.split(",") if e.strip(" \t")]
            if elems and elems[-1].split(";")[0].strip(" \t").lower() == "chunked":
                return {400}
        return {501} if len(codings) > 1 else {200}
    if cl_lines:
        values = [v for _, v in cl_lines]
        if any(v is None for v in values) or len(set(values)) > 1:
            return {400, 413} if too_big else {400}
        return {413} if too_big else {200}
    return {200}


def combo(rng):
    version = rng.choice(["1.0", "1.1", "1.1"])
    fields = ([("Transfer-Encoding", rng.choice(TE_VALUES)) for _ in range(rng.choice([0, 1, 1, 2]))] +
              [("Content-Length", rng.choice(CL_VALUES)) for _ in range(rng.choice([0, 0, 1, 2]))])
    rng.shuffle(fields)
    te_lines = [v for name, v in fields if name == "Transfer-Encoding"]
    cl_lines = [v for name, v in fields if name == "Content-Length"]
    head = "POST /input.php HTTP/%s\r\nHost: x\r\n" % version
    if version == "1.0":
        head += "Connection: keep-alive\r\n"
    head += "".join("%s: %s\r\n" % (name, v if name == "Transfer-Encoding" else v[0])
                    for name, v in fields) + "\r\n"
    expected = model(version, te_lines, cl_lines)
    if te_lines:
        body = b"3\r\nabc\r\n0\r\n\r\n" if expected != {400} or rng.random() < 0.5 else BODY
    else:
        body = BODY if cl_lines else b""  # without either the request has no body
    return head.encode() + body + SMUGGLED, expected, body != b""


# ------------------------------------------------------------------------------------------------
# Checking answers
# ------------------------------------------------------------------------------------------------

STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([1-5]\d\d) [^\r\n]*\r\n")
TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def parse_head(data):
    """(status, {lower name: value}, rest) of the first response head, or raises ValueError."""
    m = STATUS_LINE.match(data)
    if not m:
        raise ValueError("bad status line: %r" % data[:80])
    end = data.find(b"\r\n\r\n", m.start())
    if end < 0:
        raise ValueError("response head not terminated: %r" % data[:200])
    headers = {}
    for line in data[m.end():end + 2].split(b"\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep or not TOKEN.fullmatch(name):
            raise ValueError("bad response header line %r" % line)
        headers[name.lower().decode()] = value.strip().decode("latin-1")
    return int(m.group(1)), headers, data[end + 4:]


def check_answer(data):
    """None when the raw answer is acceptable for any request, else what is wrong."""
    for marker in LEAK_MARKERS:
        if marker in data:
            return "leaked %r" % marker
    if not data:
        return None  # the server may close without answering a request it cannot read
    try:
        status, headers, rest = parse_head(data)
        while status == 100:
            status, headers, rest = parse_head(rest)
    except ValueError as e:
        return str(e)
    if "content-length" in headers and not headers["content-length"].isdigit():
        return "bad Content-Length in the response: %r" % headers["content-length"]
    if "date" not in headers or headers.get("server") != "ephpm":
        return "response without Date/Server: %r" % data[:200]
    return None


def check_combo(data, expected, has_body):
    problem = check_answer(data)
    if problem:
        return problem
    try:
        status, headers, rest = parse_head(data)
    except ValueError as e:
        return str(e)
    if status not in expected:
        return "expected %s, got %d" % ("/".join(map(str, sorted(expected))), status)
    if status == 200:
        length = int(headers.get("content-length", "-1"))
        if (b'"input":"abc"' if has_body else b'"input":""') not in rest[:length]:
            return "body not received: %r" % rest[:200]
        nxt = rest[length:]
        if not nxt.startswith(b"HTTP/1.") or not nxt.endswith(STATIC_BODY):
            return "the pipelined request was not answered: %r" % nxt[:200]
        return None
    if headers.get("connection", "").lower() != "close":
        return "refusal without Connection: close"
    if b"HTTP/1." in rest:
        return "a request after a refused one was answered: %r" % rest[:200]
    return None


def exchange(port, data, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close early (e.g. 431 before all bytes were sent)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def sanity(port):
    """Normal requests answered correctly; raises AssertionError otherwise."""
    r = e2e.get(port, "/hello.php")
    e2e.eq((r.status, r.body), (200, b"Hello, world!\n"), "GET /hello.php")
    r = e2e.get(port, "/a.txt")
    e2e.eq((r.status, r.body), (200, STATIC_BODY), "GET /a.txt")
    r = e2e.request(port, "POST", "/input.php", headers={"Content-Type": "text/plain"}, body="ping")
    e2e.eq((r.status, r.json()["input"]), (200, "ping"), "POST /input.php")


def main():
    binary = os.path.abspath(sys.argv[1])
    seed = int(os.environ.get("EPHPM_FUZZ_SEED", "20261205"))
    total = int(os.environ.get("EPHPM_FUZZ_REQUESTS", "20000"))
    batch = int(os.environ.get("EPHPM_FUZZ_BATCH", "500"))
    clients = int(os.environ.get("EPHPM_FUZZ_CLIENTS", "8"))
    print("fuzz seed %d (EPHPM_FUZZ_SEED), %d requests in batches of %d, %d clients"
          % (seed, total, batch, clients), flush=True)
    rng = random.Random(seed)
    cases = []  # (bytes, expected status or None for blind mutations, body sent)
    seeds = seed_requests()
    for _ in range(total):
        if rng.random() < 0.2:
            cases.append(combo(rng))
        else:
            req = rng.choice(seeds)
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                req = mutate(rng, req)
            cases.append((req, None, None))

    workdir = tempfile.mkdtemp(prefix="ephpm-fuzz-")
    docroot = e2e.setup_docroot(workdir)
    cfg = ('[server]\nlisten = "127.0.0.1:0"\ndocument_root = "%s"\n'
           '[server.request]\nmax_body_size = "%d"\nmax_header_size = "8KB"\n'
           '[server.timeouts]\nheader_read = 2\nidle = 2\nrequest = 5\n'
           '[php]\nworkers = 1\nmax_execution_time = 5\n[php.ini]\ndisplay_errors = false\n'
           '[kv]\nmemory_limit = "16MB"\n[log]\nlevel = "error"\n' % (docroot, MAX_BODY))
    srv = e2e.Server(binary, workdir, cfg, "fuzz")
    passed, failed = 0, 0
    statuses = collections.Counter()
    t0 = time.time()
    try:
        srv.start()
        sanity(srv.port)
        with ThreadPoolExecutor(clients) as pool:
            for start in range(0, total, batch):
                chunk = cases[start:start + batch]
                answers = list(pool.map(lambda c: exchange(srv.port, c[0]), chunk))
                problems = []
                for i, ((data, expected, has_body), answer) in enumerate(zip(chunk, answers)):
                    m = STATUS_LINE.match(answer)
                    statuses[int(m.group(1)) if m else "none"] += 1
                    problem = (check_answer(answer) if expected is None
                               else check_combo(answer, expected, has_body))
                    if problem:
                        problems.append("request #%d %r: %s" % (start + i, data[:300], problem))
                try:
                    e2e.check(srv.alive(), "server died: exit %s\n%s" % (srv.proc.returncode, srv.stderr()[-3000:]))
                    sanity(srv.port)
                except Exception as e:  # noqa
                    problems.append("after the batch: %s" % e)
                name = "batch %d-%d" % (start, start + len(chunk) - 1)
                if problems:
                    failed += 1
                    print("FAIL %s: %d problem(s)" % (name, len(problems)), flush=True)
                    for p in problems[:10]:
                        print("  " + p)
                    if not srv.alive():
                        break
                else:
                    passed += 1
                    print("PASS %s" % name, flush=True)
        rc = srv.stop()
        if rc == 0:
            passed += 1
            print("PASS final SIGTERM exit 0")
        else:
            failed += 1
            print("FAIL final SIGTERM: exit code %s" % rc)
    finally:
        srv.stop(signal.SIGKILL)
        if failed == 0:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("work directory kept: " + workdir)
    print("statuses: %s" % ", ".join("%s=%d" % kv for kv in sorted(statuses.items(), key=str)))
    print("%d requests in %.1f s (seed %d)" % (total, time.time() - t0, seed))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
