#!/usr/bin/env python3
"""Writes bench/results/latest.md and the PNG plots from the raw files of one `make bench` run.

Input (written by bench/run.sh into bench/results/raw/latest/):
  kv_bench.json            Google Benchmark JSON (repetitions, iteration rows)
  kv-memory-<i>.txt        stdout of bench/kv-memory.sh, one file per run
  php-native.json          bench/php-native/bench.php
  net-clients.json         bench/all/net_clients.php (phpredis, Memcached)
  symfony.json             bench/symfony/bench.php
  http/<key>-<page>-run<i>.txt   wrk output of bench/http/bench.py (this run's files only)
  steps.tsv                step, seconds, load average before, load average after, status
Output: bench/results/latest.md, bench/results/*.png (gnuplot, pngcairo).
Only the Python standard library and gnuplot are used. Usage: report.py [raw dir] [results dir]
"""
import glob
import importlib.util
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RAW = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "bench/results/raw/latest"))
OUT = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "bench/results"))
PLOTS = os.path.join(RAW, "plots")
os.makedirs(PLOTS, exist_ok=True)


# ------------------------------------------------------------------------------------------------ helpers

def sh(*argv, stderr=False):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=ROOT)
        return ((p.stderr if stderr else p.stdout) or p.stdout or p.stderr).strip()
    except Exception:  # noqa: BLE001 - a missing tool only blanks its version
        return ""


def load_json(name):
    path = os.path.join(RAW, name)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError:
        return None


def stats(xs):
    xs = sorted(xs)
    return {"median": statistics.median(xs), "min": xs[0], "max": xs[-1], "n": len(xs)}


def fmt_ns(v):
    if v >= 1e6:
        return "%.2f ms" % (v / 1e6)
    if v >= 1e4:
        return "%.1f µs" % (v / 1e3)
    if v >= 1e3:
        return "%.2f µs" % (v / 1e3)
    return "%.1f ns" % v


def fmt_ns_range(s):
    """median (min–max), the range in the median's unit."""
    m = s["median"]
    div, unit, nd = (1e6, "ms", 2) if m >= 1e6 else (1e3, "µs", 1 if m >= 1e4 else 2) if m >= 1e3 else (1, "ns", 1)
    return "%.*f %s (%.*f–%.*f)" % (nd, m / div, unit, nd, s["min"] / div, nd, s["max"] / div)


def fmt_rate(v):
    if v >= 1e6:
        return "%.2f M" % (v / 1e6)
    if v >= 1e3:
        return "%.1f k" % (v / 1e3)
    return "%.0f" % v


def fmt_rate_range(s):
    m = s["median"]
    div, unit = (1e6, "M") if m >= 1e6 else (1e3, "k") if m >= 1e3 else (1, "")
    nd = 2 if div == 1e6 else 1 if div == 1e3 else 0
    return "%.*f %s (%.*f–%.*f)" % (nd, m / div, unit, nd, s["min"] / div, nd, s["max"] / div)


def faster_ratio(peer, ours):
    """'**N× faster**' when ours (a cost) is below the peer's, else 'N× slower'."""
    return "**%s faster**" % times(peer / ours) if peer >= ours else "%s slower" % times(ours / peer)


def times(x):
    if x < 0.1:
        return "%.3f×" % x
    return "%.2f×" % x if x < 10 else "%.1f×" % x if x < 100 else "%.0f×" % x


def gnuplot(script, name):
    path = os.path.join(PLOTS, name + ".gp")
    with open(path, "w") as f:
        f.write(script)
    p = subprocess.run(["gnuplot", path], capture_output=True, text=True)
    if p.returncode != 0:
        print("report: gnuplot failed for %s:\n%s" % (name, p.stderr), file=sys.stderr)
        return False
    return True


GP_HEAD = """set terminal pngcairo size %(w)d,%(h)d font "DejaVu Sans,10" noenhanced
set output "%(out)s"
set title "%(title)s" font ",12"
set style data histogram
set style histogram errorbars gap 1.5 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics lc rgb "#dddddd"
set key %(key)s
set datafile separator "\\t"
set datafile missing "?"
set xtics nomirror rotate by %(rot)d %(xalign)s
set ytics nomirror
set ylabel "%(ylabel)s"
set errorbars lc rgb "#333333"
"""
COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]


def short_ns(v):
    if v >= 1e6:
        return "%.3g ms" % (v / 1e6)
    if v >= 1e3:
        return "%.3g µs" % (v / 1e3)
    return "%.3g ns" % v


def short_num(v):
    if v >= 1e6:
        return "%.3gM" % (v / 1e6)
    if v >= 1e3:
        return "%.3gk" % (v / 1e3)
    return "%.3g" % v


NS_TICS = 'set ytics ("1 ns" 1, "10 ns" 10, "100 ns" 100, "1 µs" 1e3, "10 µs" 1e4, "100 µs" 1e5, "1 ms" 1e6, ' \
          '"10 ms" 1e7)\n'


def bar_chart(name, title, ylabel, clusters, series, values, log=False, w=1000, h=520, rot=0,
              labels=True, label_fn=short_num, ymin=None, key="below horizontal", extra=""):
    """Clustered bars with min–max error bars and the median written above each bar (above its error bar).
    values[(cluster, series)] = stats dict or None (no bar)."""
    dat = os.path.join(PLOTS, name + ".dat")
    if log and not ymin:  # the decade below the smallest median; error bars are clipped to it
        meds = [v["median"] for v in values.values() if v and v["median"] > 0]
        ymin = 10 ** math.floor(math.log10(min(meds) * 0.7)) if meds else None
    with open(dat, "w") as f:
        for c in clusters:
            row = [re.sub(r" \(.*\)$", "", c).replace("\t", " ")]  # x label without the parenthesis
            for s in series:
                v = values.get((c, s))
                row += (["%g" % v["median"], "%g" % max(v["min"], ymin or 0), "%g" % v["max"],
                         label_fn(v["median"])] if v
                        else ["?", "?", "?", ""])
            f.write("\t".join(row) + "\n")
    out = os.path.join(OUT, name + ".png")
    head = GP_HEAD % {"w": w, "h": h, "out": out, "title": title, "ylabel": ylabel, "key": key, "rot": rot,
                      "xalign": "right" if rot else "center"}
    if log:
        head += "set logscale y\nset format y \"%.0s%c\"\n"
        if ymin:
            head += "set yrange [%g:*]\n" % ymin
    else:
        head += "set yrange [0:*]\nset format y \"%g\"\n"
    head += "set offsets 0, 0, graph 0.12, 0\n" + extra
    n = len(series)
    gap = 1.5
    plots = []
    for j, s in enumerate(series):
        col = 2 + 4 * j
        src = "'%s'" % dat if j == 0 else "''"
        xt = ":xtic(1)" if j == 0 else ""
        plots.append("%s using %d:%d:%d%s title \"%s\" lc rgb \"%s\"" % (src, col, col + 1, col + 2, xt, s,
                                                                          COLORS[j % len(COLORS)]))
    if labels:
        for j, s in enumerate(series):
            col = 2 + 4 * j
            off = (j - (n - 1) / 2.0) / (n + gap)
            plots.append("'%s' using ($0%+.4f):%d:%d with labels rotate left offset 0,0.5 font \",8\" notitle"
                         % (dat, off, col + 2, col + 3))
    head += "plot " + ", \\\n     ".join(plots) + "\n"
    return gnuplot(head, name)


def env_versions(native, symfony, net):
    v = {}
    v["php"] = sh("php", "-r", "echo PHP_VERSION;")
    v["apcu"] = (native or {}).get("apcu") or sh("php", "-d", "apc.enable_cli=1", "-r", "echo phpversion('apcu');")
    v["phpredis"] = sh("php", "-r", "echo phpversion('redis');")
    v["php-memcached"] = sh("php", "-r", "echo phpversion('memcached');")
    v["igbinary"] = sh("php", "-r", "echo phpversion('igbinary');")
    m = re.search(r"v=(\S+)", sh("redis-server", "--version"))
    v["redis-server"] = m.group(1) if m else ""
    v["memcached"] = sh("memcached", "-V").replace("memcached ", "")
    m = re.search(r"nginx/(\S+)", sh("nginx", "-v", stderr=True))
    v["nginx"] = m.group(1) if m else ""
    m = re.search(r"PHP (\S+)", sh("php-fpm8.2", "-v"))
    v["php-fpm"] = m.group(1) if m else ""
    m = re.search(r"wrk (\S+)", sh("wrk", "-v"))
    v["wrk"] = m.group(1) if m else ""
    v["symfony/cache"] = (symfony or {}).get("env", {}).get("symfony_cache", "")
    v["Google Benchmark"] = sh("dpkg-query", "-W", "-f=${Version}", "libbenchmark-dev")
    v["g++"] = sh("g++", "-dumpfullversion")
    m = re.search(r"gnuplot (\S+ patchlevel \S+)", sh("gnuplot", "--version"))
    v["gnuplot"] = m.group(1) if m else ""
    try:
        with open(os.path.join(RAW, "git-rev.txt")) as f:
            rev, dirty = f.read().split()
    except (OSError, ValueError):
        rev, dirty = sh("git", "rev-parse", "--short=12", "HEAD"), "0"
    v["ephpm"] = "git " + rev + (" + uncommitted changes in %s files" % dirty if dirty != "0" else "")
    return v


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1).strip() if m else ""
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            m = re.search(r"MemTotal:\s*(\d+)", f.read())
            mem = "%.0f GiB RAM" % (int(m.group(1)) / 1048576.0) if m else ""
    except OSError:
        pass
    debian = ""
    try:
        with open("/etc/debian_version") as f:
            debian = "Debian " + f.read().strip()
    except OSError:
        pass
    virt = "virtualised" if "hypervisor" in open("/proc/cpuinfo").read() else ""
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "kernel": platform.release(),
            "mem": mem, "os": debian, "virt": virt}


# ------------------------------------------------------------------------------------------------ sections

def section_store(md):
    data = load_json("kv_bench.json")
    md.append("## Store vs `std::unordered_map` + `std::mutex` (C++, no PHP)\n")
    if not data:
        md.append("_Not run or failed: see `bench/results/raw/latest/kv_bench.log`._\n")
        return None
    runs = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration" or "items_per_second" not in b:
            continue
        runs.setdefault(b["run_name"], []).append(b["items_per_second"])
    names = {"GetHit": "get hit", "GetHitDistinct": "get hit, distinct keys per thread",
             "GetMiss": "get miss", "Set": "set", "Incr": "incr",
             "Mixed90_10": "mixed 90 % get / 10 % set, 1M keys"}
    rows = []  # (op label, size, threads, ours stats, baseline stats)
    order = []
    for run_name, xs in runs.items():
        m = re.match(r"BM_(Baseline)?(\w+?)(?:/(\d+))?/real_time/threads:(\d+)$", run_name)
        if not m or m.group(1):
            continue
        op, size, thr = m.group(2), m.group(3), m.group(4)
        base = runs.get(run_name.replace("BM_" + op, "BM_Baseline" + op, 1))
        order.append((list(names).index(op) if op in names else 99, int(size or 0), int(thr)))
        rows.append((order[-1], names.get(op, op), size, thr, stats(xs), stats(base) if base else None))
    rows.sort(key=lambda r: r[0])
    reps = max(s[4]["n"] for s in rows) if rows else 0
    md.append("`build/runtime/bench/kv_bench` (Google Benchmark, `UseRealTime`, items/s summed over threads): our "
              "store (private arena, 64 shards, 256 MB) against one `std::unordered_map` behind one `std::mutex` in "
              "the same binary and run. Median of %d repetitions (min–max), repetitions interleaved at random. "
              "Ratio > 1: our store does more operations per second.\n" % reps)
    md.append("| operation | value | threads | ephpm store ops/s | map + mutex ops/s | store ÷ baseline |")
    md.append("|---|---:|---:|---:|---:|---:|")
    clusters, values = [], {}
    for _, op, size, thr, ours, base in rows:
        size_l = {"64": "64 B", "4096": "4 KiB", "65536": "64 KiB"}.get(size, size or "—")
        md.append("| %s | %s | %s | %s | %s | %s |" % (
            op, size_l, thr, fmt_rate_range(ours), fmt_rate_range(base) if base else "—",
            ("**%s**" % times(ours["median"] / base["median"])) if base else "—"))
        short = {"get hit": "get", "get hit, distinct keys per thread": "get distinct", "get miss": "miss",
                 "set": "set", "incr": "incr"}.get(op, "mixed")
        c = "%s%s t%s" % (short, (" " + size_l) if size else "", thr)
        clusters.append(c)
        values[(c, "ephpm store")] = ours
        values[(c, "unordered_map + mutex")] = base
    md.append("")
    ok = bar_chart("store-ops", "Store vs std::unordered_map + std::mutex (ops/s, log scale; t1/t2 = threads)",
                   "operations per second", clusters, ["ephpm store", "unordered_map + mutex"], values, log=True,
                   w=1200, h=560, rot=45, labels=False)
    if ok:
        md.append("![store ops/s](store-ops.png)\n")
    return rows


def section_native(md):
    native = load_json("php-native.json")
    net = load_json("net-clients.json")
    md.append("## Native `ephpm_kv_*` from PHP vs APCu, PHP array, phpredis, Memcached\n")
    if not native:
        md.append("_Not run or failed: see `bench/results/raw/latest/php-native.log`._\n")
        return None
    by = {}
    for r in native["results"] + (net["results"] if net else []):
        s = {"median": r["median"], "min": r["min"], "max": r["max"], "n": r.get("n")}
        by[(r["group"], r["kind"])] = s
    kinds = [("ephpm", "`ephpm_kv_*`"), ("apcu", "APCu"), ("array", "PHP array"), ("phpredis", "phpredis"),
             ("memcached", "Memcached")]
    shared = {"apcu", "phpredis", "memcached"}
    md.append("One PHP process under `ephpm php` per client library, back to back in the same run, OPcache on, JIT off "
              "(`bench/php-native/bench.php`, `bench/all/net_clients.php`): `hrtime(true)` around an inline `for` "
              "loop of one call (docs/anchors.md section 2), warm-up first, median of %d runs (min–max). %s iterations "
              "per run in-process (%s at 64 KiB), %s per run for phpredis and Memcached (real `redis-server` and "
              "`memcached -t 4` on loopback TCP, one synchronous connection, no pinning: a round trip whose two "
              "ends sit on different vCPUs costs tens of µs on this VM class). Get loops check the value returned; "
              "the PHP array is process-local (it does not survive the request) and is listed as the floor.\n"
              % (native["runs"], "{:,}".format(native["iterations"]), "{:,}".format(native["iterations_64k"]),
                 "{:,}".format(net["iterations"]) if net else "—"))
    md.append("| operation | size | " + " | ".join(k[1] for k in kinds) +
              " | vs best peer | vs best shared cache |")
    md.append("|---|---|" + "---:|" * (len(kinds) + 2))
    rows = [("get", "64 B"), ("get", "4 KiB"), ("get", "64 KiB"), ("set", "64 B"), ("set", "4 KiB"),
            ("set", "64 KiB"), ("incr", "")]
    clusters, values = [], {}
    summary = {}
    for op, size in rows:
        g = "incr" if op == "incr" else "%s %s" % (op, size)
        ours = by.get((g, "ephpm"))
        cells = [fmt_ns_range(by[(g, k)]) if (g, k) in by else "—" for k, _ in kinds]
        peers = [(by[(g, k)]["median"], label) for k, label in kinds[1:] if (g, k) in by]
        sh_peers = [(by[(g, k)]["median"], label) for k, label in kinds[1:] if (g, k) in by and k in shared]

        def vs(ps):
            if not ours or not ps:
                return "—"
            best = min(ps)
            return "%s (%s)" % (times(best[0] / ours["median"]), best[1])
        md.append("| %s | %s | %s | %s | %s |" % (
            {"get": "get (hit)", "set": "set", "incr": "incr"}[op], size or "counter", " | ".join(cells),
            vs(peers), vs(sh_peers)))
        summary[g] = (ours, peers, sh_peers)
        c = g
        clusters.append(c)
        for k, label in kinds:
            values[(c, label.strip("`"))] = by.get((g, k))
    empty = by.get(("base", "ref"))
    if empty:
        md.append("| empty `for` loop | | %s | | | | | | |" % fmt_ns_range(empty))
    md.append("")
    md.append("Functions: `ephpm_kv_get/set/incr`; `apcu_fetch/store/inc`; `$a[$k]`; `Redis::get/set/incr`; "
              "`Memcached::get/set/increment`. \"vs best peer\" = the fastest other column's time ÷ ours "
              "(above 1: ours is faster; the PHP array usually wins gets, as it should); \"vs best shared cache\" "
              "leaves the array out. Start-up of `ephpm php` vs `php`: see [php-native.md](php-native.md) (its own run).\n")
    ok = bar_chart("native", "ns per call from PHP (log scale; lower is better)", "ns per operation", clusters,
                   [k[1].strip("`") for k in kinds], values, log=True, w=1200, h=560, label_fn=short_ns, extra=NS_TICS)
    if ok:
        md.append("![native ns/op](native.png)\n")
    return summary


def section_symfony(md):
    data = load_json("symfony.json")
    md.append("## Symfony Cache adapters\n")
    if not data:
        md.append("_Not run or failed: see `bench/results/raw/latest/symfony.log`._\n")
        return None
    env, res = data["env"], data["results"]
    adapters = list(res)
    ops = list(next(iter(res.values())))
    runs = max(len(v) for a in res.values() for v in a.values())
    md.append("`bench/symfony/bench.php` under `ephpm php` (OPcache on), symfony/cache %s, %s; one value for every "
              "adapter (a PHP array of %s bytes serialized); each run measures every adapter and operation once "
              "(interleaved), median of %d runs (min–max). Redis and Memcached are real servers on loopback TCP. "
              "EphpmKvAdapter backend: %s.\n" % (env.get("symfony_cache"), env.get("marshaller"),
                                                 env.get("value_bytes"), runs, env.get("ephpm_backend")))
    base = "EphpmKvAdapter"
    md.append("| operation | " + " | ".join(adapters) + " | EphpmKvAdapter vs best peer |")
    md.append("|---|" + "---:|" * (len(adapters) + 1))
    values, summary = {}, {}
    for op in ops:
        st = {a: stats(res[a][op]) for a in adapters if op in res[a]}
        peers = [(st[a]["median"], a) for a in adapters if a != base and a in st]
        best = min(peers) if peers else None
        r = best[0] / st[base]["median"] if best and base in st else None
        md.append("| %s | %s | %s |" % (op, " | ".join(fmt_ns_range(st[a]) if a in st else "—" for a in adapters),
                                        "**%s** (%s)" % (times(r), best[1]) if r else "—"))
        for a in adapters:
            values[(op, a)] = st.get(a)
        summary[op] = (st, best)
    md.append("")
    md.append("\"vs best peer\" = the fastest other adapter's time ÷ EphpmKvAdapter's (above 1: EphpmKvAdapter is "
              "faster). ArrayAdapter keeps values in the PHP process only (lost at the end of the request).\n")
    ir = load_json("symfony-instructions.json")
    if ir:
        adapters_ir = []
        for k in ir:
            a = k.split("/")[0]
            if a not in adapters_ir:
                adapters_ir.append(a)
        keysets = sorted({int(k.split("/")[1]) for k in ir})
        md.append("Instructions per `getItem()->get()` (callgrind, from `bench/symfony/run.sh`: independent of the "
                  "machine's load; 1 key = the same item again and again, 2,000 keys = a different item each time):\n")
        md.append("| keys | " + " | ".join(adapters_ir) + " | EphpmKvAdapter vs best peer |")
        md.append("|---|" + "---:|" * (len(adapters_ir) + 1))
        for n in keysets:
            row = {a: ir.get("%s/%d" % (a, n)) for a in adapters_ir}
            peers = [(v, a) for a, v in row.items() if a != base and v]
            ours = row.get(base)
            best = min(peers) if peers else None
            md.append("| %s | %s | %s |" % ("{:,}".format(n), " | ".join("{:,}".format(row[a]) if row[a] else "—"
                                                                          for a in adapters_ir),
                                          "%s (%s)" % (faster_ratio(best[0], ours), best[1]) if best and ours else "—"))
        md.append("")
    ok = bar_chart("symfony", "Symfony Cache adapters: ns per operation (log scale; lower is better)",
                   "ns per operation", ops, adapters, values, log=True, w=1100, h=540, label_fn=short_ns,
                   extra=NS_TICS)
    if ok:
        md.append("![symfony ns/op](symfony.png)\n")
    return summary


def http_labels():
    labels = {"ephpm": "ephpm serve", "fpm2": "nginx + php-fpm (static, 2 children)",
              "fpm8": "nginx + php-fpm (static, 8 children)", "php-s": "php -S (OPcache on)"}
    order = list(labels)
    try:
        spec = importlib.util.spec_from_file_location("ephpm_http_bench", os.path.join(ROOT, "bench/http/bench.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        order = [k for _, k, _ in mod.SERVERS]
        labels.update({k: label for label, k, _ in mod.SERVERS})
    except Exception:  # noqa: BLE001 - fall back to the known servers
        pass
    return labels, order


def parse_wrk(path):
    with open(path) as f:
        out = f.read()
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        return None
    p = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99 = float(p.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p.group(2)] if p else None
    return float(m.group(1)), p99


def section_http(md):
    md.append("## HTTP: `ephpm serve` vs nginx + php-fpm vs `php -S`\n")
    files = glob.glob(os.path.join(RAW, "http", "*-run*.txt"))
    if not files:
        md.append("_Not run or failed: see `bench/results/raw/latest/http.log`._\n")
        return None
    labels, order = http_labels()
    res = {}
    for path in files:
        m = re.match(r"(.+)-([^-]+\.php)-run(\d+)\.txt$", os.path.basename(path))
        if not m:
            continue
        r = parse_wrk(path)
        if r:
            res.setdefault((m.group(1), m.group(2)), []).append(r)
    if not res:  # e.g. only the Symfony section ran (ONLY=sf-...)
        md.append("_Not run: see `bench/results/raw/latest/http.log`._\n")
        return None
    keys = [k for k in order if any(kk == k for kk, _ in res)] + sorted({k for k, _ in res} - set(order))
    pages = [p for p in ("hello.php", "counter.php") if any(pp == p for _, pp in res)]
    pages += sorted({p for _, p in res} - set(pages))
    runs = max(len(v) for v in res.values())
    dur = ""
    m = re.search(r"Running (\d+\w+) test", open(files[0]).read())
    if m:
        dur = m.group(1)
    conns = ""
    m = re.search(r"(\d+) threads and (\d+) connections", open(files[0]).read())
    if m:
        conns = "-t%s -c%s" % (m.group(1), m.group(2))
    md.append("`bench/http/bench.py`: every server started on a free loopback port and measured back to back with "
              "`wrk %s -d%s --latency` (wrk shares the 2 vCPUs), 2 s warm-up per page, median of %d runs (min–max). "
              "hello.php echoes one line; the counter page calls `ephpm_kv_incr()` under ephpm and `apcu_inc()` "
              "elsewhere. OPcache on everywhere; nginx 1 worker, FastCGI over a unix socket, keep-alive; php-fpm "
              "`pm = static`.\n" % (conns, dur, runs))
    head = "| server |"
    sep = "|---|"
    for p in pages:
        head += " %s req/s | %s p99 |" % (p, p)
        sep += "---:|---:|"
    md.append(head)
    md.append(sep)
    values, stat = {}, {}
    for k in keys:
        cells = []
        for p in pages:
            rs = res.get((k, p))
            if not rs:
                cells += ["—", "—"]
                continue
            rps = stats([r[0] for r in rs])
            p99 = stats([r[1] for r in rs if r[1] is not None])
            stat[(k, p)] = (rps, p99)
            cells += [fmt_rate_range(rps).replace(" k ", "k ").replace(" (", " (") ,
                      "%.2f ms (%.2f–%.2f)" % (p99["median"], p99["min"], p99["max"])]
            values[(p, labels.get(k, k))] = rps
        md.append("| %s | %s |" % (labels.get(k, k), " | ".join(cells)))
    md.append("")
    summary = {}
    for p in pages:
        ours = stat.get(("ephpm", p))
        peers = [(stat[(k, p)][0]["median"], k) for k in keys if k != "ephpm" and (k, p) in stat]
        if ours and peers:
            best = max(peers)
            bp99 = stat[(best[1], p)][1]["median"]
            low = min((stat[(k, p)][1]["median"], k) for k in keys if k != "ephpm" and (k, p) in stat)
            summary[p] = (ours, best, labels.get(best[1], best[1]), bp99)
            md.append("* **%s: ephpm serve %s req/s = %s the best peer** (%s, %s req/s); p99 %.2f ms vs %.2f ms "
                      "(lowest peer p99: %.2f ms, %s)." % (
                          p, fmt_rate(ours[0]["median"]), times(ours[0]["median"] / best[0]),
                          labels.get(best[1], best[1]), fmt_rate(best[0]), ours[1]["median"], bp99, low[0],
                          labels.get(low[1], low[1])))
    md.append("")
    md.append("Memory (RSS soak) and error counts: [http.md](http.md) (its own run).\n")
    ok = bar_chart("http", "HTTP requests per second, wrk %s on loopback (higher is better)" % conns, "requests/s",
                   pages, [labels.get(k, k) for k in keys], values, log=False, w=1000, h=520)
    if ok:
        md.append("![HTTP req/s](http.png)\n")
    return summary


SF_LABELS = {"sf-worker": "ephpm serve, worker mode (ephpm/symfony-runtime)", "sf-classic": "ephpm serve, classic mode",
             "sf-fpm2": "nginx + php-fpm + APCu pools (static, 2 children)",
             "sf-fpm8": "nginx + php-fpm + APCu pools (static, 8 children)"}


def section_http_symfony(md):
    """examples/symfony-app GET /posts/1 (bench/http/bench.py's Symfony section, raw files <key>-posts_1-run<i>)."""
    md.append("## HTTP: the Symfony app, `GET /posts/1`\n")
    res = {}
    for path in glob.glob(os.path.join(RAW, "http", "*-posts_1-run*.txt")):
        key = os.path.basename(path).split("-posts_1-run")[0]
        r = parse_wrk(path)
        if r:
            res.setdefault(key, []).append(r)
    if not res:
        md.append("_Not run or failed: see `bench/results/raw/latest/http.log`._\n")
        return None
    md.append("examples/symfony-app (Symfony 7.4, prod): a cache hit through `CacheInterface::get()`. `ephpm serve` "
              "with `EphpmKvAdapter` pools in worker mode (ephpm/symfony-runtime: the kernel booted once per worker) "
              "and in classic mode (a kernel boot per request); nginx + php-fpm with the same pools on "
              "`ApcuAdapter`. Same wrk settings as above, runs interleaved; median (min–max).\n")
    md.append("| server | /posts/1 req/s | p99 |")
    md.append("|---|---:|---:|")
    stat = {}
    for key in [k for k in SF_LABELS if k in res] + sorted(set(res) - set(SF_LABELS)):
        rps = stats([r[0] for r in res[key]])
        p99 = stats([r[1] for r in res[key] if r[1] is not None])
        stat[key] = (rps, p99)
        md.append("| %s | %s | %.2f ms (%.2f–%.2f) |" % (SF_LABELS.get(key, key), fmt_rate_range(rps), p99["median"],
                                                        p99["min"], p99["max"]))
    md.append("")
    peers = [(stat[k][0]["median"], k) for k in stat if k.startswith("sf-fpm")]
    summary = {}
    if peers:
        best = max(peers)
        for ours in ("sf-worker", "sf-classic"):
            if ours in stat:
                summary[ours] = (stat[ours], best, SF_LABELS.get(best[1], best[1]), stat[best[1]][1]["median"])
                md.append("* **%s: %s req/s = %s the best php-fpm** (%s, %s req/s); p99 %.2f ms vs %.2f ms." % (
                    SF_LABELS[ours], fmt_rate(stat[ours][0]["median"]), times(stat[ours][0]["median"] / best[0]),
                    SF_LABELS.get(best[1], best[1]), fmt_rate(best[0]), stat[ours][1]["median"],
                    stat[best[1]][1]["median"]))
        md.append("")
    return summary


def section_memory(md):
    md.append("## Memory per entry vs redis-server\n")
    files = sorted(glob.glob(os.path.join(RAW, "kv-memory-*.txt")))
    rows = {}
    n = ""
    for path in files:
        with open(path) as f:
            text = f.read()
        m = re.search(r"# Memory per entry: (\d+) entries, ([^\n]+)", text)
        if m:
            n = "%s entries, %s" % ("{:,}".format(int(m.group(1))), m.group(2))
        for line in text.splitlines():
            m = re.match(r"\|\s*([^|]+?)\s*\|\s*([\d.]+)\s*\|", line)
            if m:
                rows.setdefault(m.group(1), []).append(float(m.group(2)))
    if not rows:
        md.append("_Not run or failed: see `bench/results/raw/latest/kv-memory.log`._\n")
        return None
    redis_key = next((k for k in rows if k.startswith("redis")), None)
    md.append("`bench/kv-memory.sh`: %s, our store (`build/runtime/bench/kv_memory`) vs a `redis-server` started "
              "for the purpose (`used_memory` after − before). Median of %d runs (min–max). Ratio < 1: we use less "
              "memory than Redis.\n" % (n, len(files)))
    md.append("| store | bytes per entry | vs redis-server |")
    md.append("|---|---:|---:|")
    values, st = {}, {}
    for k, xs in rows.items():
        s = stats(xs)
        st[k] = s
        r = s["median"] / stats(rows[redis_key])["median"] if redis_key else None
        md.append("| %s | %.1f (%.1f–%.1f) | %s |" % (k, s["median"], s["min"], s["max"], times(r) if r else "—"))
        values[(k, "bytes per entry")] = s
    md.append("")
    ok = bar_chart("memory", "Memory per entry (%s; lower is better)" % n, "bytes per entry",
                   list(rows), ["bytes per entry"], values, log=False, w=900, h=420,
                   label_fn=lambda v: "%.1f B" % v, key="off")
    if ok:
        md.append("![bytes per entry](memory.png)\n")
    return st


# ------------------------------------------------------------------------------------------------ main

def main():
    native = load_json("php-native.json")
    symfony = load_json("symfony.json")
    net = load_json("net-clients.json")
    mach = machine()
    vers = env_versions(native, symfony, net)
    steps = []
    if os.path.exists(os.path.join(RAW, "steps.tsv")):
        with open(os.path.join(RAW, "steps.tsv")) as f:
            steps = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    load_now = "%.2f %.2f %.2f" % os.getloadavg()
    load_start = steps[0][2] if steps else ""

    body = []

    def safe(fn):  # one broken input must not cost the other sections
        try:
            return fn(body)
        except Exception as e:  # noqa: BLE001
            print("report: %s failed: %r" % (fn.__name__, e), file=sys.stderr)
            body.append("_The report for this section failed: %s._\n" % e)
            return None
    store = safe(section_store)
    nat = safe(section_native)
    sym = safe(section_symfony)
    http = safe(section_http)
    http_sf = safe(section_http_symfony)
    mem = safe(section_memory)

    md = ["# ePHPm benchmarks: latest run\n"]
    md.append("Generated by `make bench` (`bench/run.sh`) on %s. **Every number on this page was measured side by "
              "side, on one machine, in one run**: ratios are the result; absolute numbers depend on the machine "
              "and on whatever else it was doing.\n" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    md.append("**Machine:** %s, %d vCPUs (%s), %s, %s, kernel %s. **Load average** (1/5/15 min): %s at the start, "
              "%s at the end.%s\n" % (mach["cpu"], mach["cores"], mach["virt"] or "bare metal", mach["mem"],
                                      mach["os"], mach["kernel"], load_start or "?", load_now,
                                      " The load came partly from other jobs on the same machine, so spreads are wide; "
                                      "compare the columns of one row rather than across runs."
                                      if load_start and float(load_start.split()[0]) > 1.5 else ""))
    md.append("**Versions:** " + "; ".join("%s %s" % (k, v) for k, v in vers.items() if v) + ".\n")

    # Summary: one row per headline comparison, "ours vs the best peer" in each benchmark.
    summ = []  # (what, ours, peer label, peer, ratio text)

    def faster(peer, ours_v):  # times faster (time-based)
        return "**%s faster**" % times(peer / ours_v) if peer >= ours_v else "%s slower" % times(ours_v / peer)

    if nat:
        for g, what in (("get 64 B", "`ephpm_kv_get`, 64 B hit"), ("get 4 KiB", "`ephpm_kv_get`, 4 KiB hit"),
                        ("set 64 B", "`ephpm_kv_set`, 64 B"), ("incr", "`ephpm_kv_incr`")):
            ours, peers, shp = nat.get(g, (None, [], []))
            if ours and shp:
                best = min(shp)
                summ.append((what + " (native, from PHP)", fmt_ns(ours["median"]), "%s (best shared cache)" % best[1],
                             fmt_ns(best[0]), faster(best[0], ours["median"])))
        ours, peers, shp = nat.get("get 64 B", (None, [], []))
        net_peers = [p for p in shp if p[1] in ("phpredis", "Memcached")]
        if ours and net_peers:
            best = min(net_peers)
            summ.append(("`ephpm_kv_get`, 64 B hit vs a loopback round trip", fmt_ns(ours["median"]),
                         best[1], fmt_ns(best[0]), faster(best[0], ours["median"])))
    if sym:
        for op in ('get($key, $cb) hit', 'getItem() hit'):
            if op not in sym:
                continue
            st, best = sym[op]
            if "EphpmKvAdapter" not in st or not best:
                continue
            o = st["EphpmKvAdapter"]["median"]
            summ.append(("Symfony `%s`" % op, fmt_ns(o), best[1], fmt_ns(best[0]), faster(best[0], o)))
            shared = [(st[a]["median"], a) for a in st if a not in ("EphpmKvAdapter", "ArrayAdapter")]
            if shared and min(shared)[1] != best[1]:
                b2 = min(shared)
                summ.append(("Symfony `%s`, shared caches only" % op, fmt_ns(o), b2[1], fmt_ns(b2[0]),
                             faster(b2[0], o)))
    if http:
        for page, (ours, best, label, bp99) in http.items():
            o = ours[0]["median"]
            r = o / best[0]
            summ.append(("HTTP %s, req/s (p99)" % page, "%s (%.1f ms)" % (fmt_rate(o), ours[1]["median"]), label,
                         "%s (%.1f ms)" % (fmt_rate(best[0]), bp99),
                         "**%s the req/s**" % times(r) if r >= 1 else "%s the req/s" % times(r)))
    if http_sf:
        for key, what in (("sf-worker", "worker mode"), ("sf-classic", "classic mode")):
            if key not in http_sf:
                continue
            ours, best, label, bp99 = http_sf[key]
            o = ours[0]["median"]
            r = o / best[0]
            summ.append(("HTTP Symfony app `/posts/1`, %s, req/s (p99)" % what,
                         "%s (%.1f ms)" % (fmt_rate(o), ours[1]["median"]), label,
                         "%s (%.1f ms)" % (fmt_rate(best[0]), bp99),
                         "**%s the req/s**" % times(r) if r >= 1 else "%s the req/s" % times(r)))
    if mem:
        used = next((v for k, v in mem.items() if "used" in k and "ephpm" in k), None)
        red = next((v for k, v in mem.items() if k.startswith("redis")), None)
        if used and red:
            r = used["median"] / red["median"]
            summ.append(("memory per entry (1M small entries)", "%.0f B" % used["median"], "redis-server",
                         "%.0f B" % red["median"], "**%s the memory**" % times(r) if r <= 1 else "%s the memory" % times(r)))
    if store:
        for r in store:
            if r[5] and ((r[1] == "get hit" and r[2] == "64") or r[1].startswith("mixed")):
                o, b = r[4]["median"], r[5]["median"]
                summ.append(("store %s%s, %s thread%s (C++)" % (r[1].split(",")[0], " 64 B" if r[2] else "", r[3],
                                                                "s" if r[3] != "1" else ""),
                             fmt_rate(o) + " ops/s", "std::unordered_map + std::mutex", fmt_rate(b) + " ops/s",
                             faster(1 / b, 1 / o)))
    if summ:
        md.append("## Summary\n")
        md.append("Medians of this run; the full tables with the spread (min–max) follow.\n")
        md.append("| comparison | ephpm | best peer | peer | ephpm vs peer |")
        md.append("|---|---:|---|---:|---|")
        md += ["| %s | %s | %s | %s | %s |" % row for row in summ]
        md.append("")
    md += body
    if steps:
        md.append("## This run\n")
        md.append("| step | seconds | load average before | load average after | status |")
        md.append("|---|---:|---|---|---|")
        total = 0
        for s in steps:
            total += int(s[1])
            md.append("| %s |" % " | ".join(s))
        md.append("| total | %d | | | |" % total)
        md.append("")
        md.append("Knobs and raw data: `bench/run.sh` (header) and `bench/results/raw/latest/` (not committed). "
                  "Per-benchmark reports with more detail (each from its own script's last committed run, not necessarily "
                  "this one): [php-native.md](php-native.md), [symfony.md](symfony.md), [http.md](http.md), "
                  "[http-symfony.md](http-symfony.md), "
                  "[kv-memory.md](kv-memory.md).\n")
    path = os.path.join(OUT, "latest.md")
    with open(path, "w") as f:
        f.write("\n".join(md))
    print("report: wrote %s" % path)


if __name__ == "__main__":
    main()
