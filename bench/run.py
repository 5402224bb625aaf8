#!/usr/bin/python3
"""The benchmark kit's driver (bench/README.md): every echo server under the same loads, in one run.

Each server runs pinned to CPU 0 (taskset), the load generator to CPU 1; each measurement starts
a fresh server. Every figure is the median of --runs runs. Prints Markdown tables (and writes them
with the raw results as JSON to --out) with ratios to uWebSockets and to the raw-TCP ceiling.
"""
import argparse
import atexit
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name, label, loadgen arguments
WORKLOADS = [
    ("pingpong", "32 B ping-pong ×1 conn", ["-c", "1", "-d", "1", "-s", "32"]),
    ("pipe64", "32 B ×64 in flight ×1 conn", ["-c", "1", "-d", "64", "-s", "32"]),
    ("small", "32 B ×16 ×100 conns", ["-c", "100", "-d", "16", "-s", "32"]),
    ("1k", "1 KiB ×4 ×100 conns", ["-c", "100", "-d", "4", "-s", "1024"]),
    ("64k", "64 KiB ×4 ×10 conns", ["-c", "10", "-d", "4", "-s", "65536"]),
    ("1m", "1 MiB ×2 ×1 conn", ["-c", "1", "-d", "2", "-s", "1048576"]),
    ("idle1k", "1,000 idle conns, 1 msg/s each", ["--mode", "idle", "-c", "1000", "-s", "32", "--rate", "1"]),
    ("idle10k", "10,000 idle conns, 1 msg/s each", ["--mode", "idle", "-c", "10000", "-s", "32", "--rate", "1"]),
    ("upgrade", "upgrades, 32 opening at once", ["--mode", "handshake", "--inflight", "32"]),
]


def tls_certs():
    """A throwaway certificate for wss:// runs (tests/tls/make_certs.sh), made once per run."""
    d = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"wsc-bench-certs-{os.getpid()}")
    if not os.path.exists(os.path.join(d, "server.pem")):
        atexit.register(shutil.rmtree, d, True)
        subprocess.run([os.path.join(os.path.dirname(HERE), "tests", "tls", "make_certs.sh"), d], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return os.path.join(d, "server.pem"), os.path.join(d, "server.key")


def is_tls(name):
    return name.endswith("+TLS")


def servers(build, npm):
    node_path = os.path.join(npm, "node_modules")
    uws = os.environ.get("WSC_UWS_ECHO", os.path.expanduser("~/.cache/wsc/uws/uws_echo"))
    uws_tls = os.environ.get("WSC_UWS_TLS_ECHO", os.path.expanduser("~/.cache/wsc/uws/uws_echo_tls"))
    bench = os.path.join(build, "bench")
    s = [
        ("raw-TCP", [os.path.join(bench, "raw_echo")], {}, True),
        ("uWebSockets", [uws], {}, False),
        ("uWebSockets+TLS", [uws_tls, "0", "CERT", "KEY"], {}, False),  # its SSLApp: PORT CERT KEY
        ("wsc", [os.path.join(bench, "wsc_echo")], {}, False),
        ("wsc+TLS", [os.path.join(bench, "wsc_echo"), "--cert", "CERT", "--key", "KEY"], {}, False),
        ("libwebsockets", [os.path.join(bench, "lws_echo")], {}, False),
        ("Boost.Beast", [os.path.join(bench, "beast_echo")], {}, False),
        ("ws+bufferutil", ["node", os.path.join(HERE, "servers", "ws_echo.js")], {"NODE_PATH": node_path}, False),
        ("ws", ["node", os.path.join(HERE, "servers", "ws_echo.js")],
         {"NODE_PATH": node_path, "WS_NO_BUFFER_UTIL": "1"}, False),
        ("python-websockets", ["/usr/bin/python3", os.path.join(HERE, "servers", "py_echo.py")], {}, False),
    ]
    if os.environ.get("WSC_BASELINE_ECHO"):  # another build of wsc_echo, for before/after ratios in one run
        s.insert(3, ("wsc-baseline", [os.environ["WSC_BASELINE_ECHO"]], {}, False))
    out, notes = [], []
    for name, argv, env, raw in s:
        if is_tls(name):
            cert, key = tls_certs()
            argv = [cert if a == "CERT" else key if a == "KEY" else a for a in argv]
        exe = argv[0] if argv[0] not in ("node",) else shutil.which("node")
        if exe is None or not os.path.exists(exe if os.path.isabs(exe) else shutil.which(exe) or ""):
            notes.append(f"{name}: skipped, {argv[0]} is absent" +
                         (" (uWebSockets is fetched and built outside the repository: see bench/README.md)"
                          if name.startswith("uWebSockets") else ""))
            continue
        out.append((name, argv, env, raw))
    return out, notes


class Server:
    def __init__(self, argv, env):
        e = dict(os.environ)
        e.update(env)
        self.p = subprocess.Popen(["taskset", "-c", "0"] + argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, env=e)
        line = self.p.stdout.readline().decode()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"{argv[0]} did not start: {line!r}")
        self.port = int(line.split()[1])

    def stop(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def run_once(loadgen, server, workload_args, seconds, warmup):
    name, argv, env, raw = server
    # A server that does not start (seen once with libwebsockets right after 10,000 connections
    # closed) gets a second chance after a pause; then the run is recorded as failed, and the
    # kit goes on with the others.
    srv = None
    for attempt in range(2):
        try:
            srv = Server(argv, env)
            break
        except RuntimeError as e:
            error = str(e)
            time.sleep(2)
    if srv is None:
        return {"error": error[-200:]}
    try:
        time.sleep(0.2)
        scheme = "wss" if is_tls(name) else "ws"
        cmd = ["taskset", "-c", "1", loadgen, "--url", f"{scheme}://127.0.0.1:{srv.port}/", "--pid", str(srv.p.pid),
               "-t", str(seconds), "-w", str(warmup)] + workload_args + (["--raw"] if raw else [])
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                           timeout=seconds + warmup + 120)
        if r.returncode != 0 or not r.stdout.strip():
            return {"error": (r.stderr.strip() or f"exit {r.returncode}")[-200:]}
        return json.loads(r.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    finally:
        srv.stop()


def median(results, key):
    vals = [r[key] for r in results if key in r and "error" not in r]
    return statistics.median(vals) if vals else None


def fmt(v, unit=""):
    if v is None:
        return "—"
    if unit == "rate":
        return f"{v / 1e6:.2f} M" if v >= 1e6 else f"{v / 1e3:.0f} k" if v >= 1e4 else f"{v:.0f}"
    if unit == "ns":
        return f"{v:.0f} ns" if v < 1e4 else f"{v / 1e3:.1f} µs"
    if unit == "bytes":
        return f"{v:.0f} B" if v < 1e4 else f"{v / 1024:.1f} KB"
    if unit == "x":
        return f"{v:.2f}×"
    return f"{v:.1f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def client_side(loadgen, server, seconds, warmup, runs, npm):
    """wsc's client against one server, next to ws' client (Node) under the same load."""
    clients = [("wsc (loadgen.c)", [loadgen], {}),
               ("ws+bufferutil (Node)", ["node", os.path.join(HERE, "clients", "ws_load.js")],
                {"NODE_PATH": os.path.join(npm, "node_modules")})]
    rows = []
    for wl in ("small", "1k", "64k"):
        args = next(w[2] for w in WORKLOADS if w[0] == wl)
        for cname, cargv, cenv in clients:
            results = []
            for _ in range(runs):
                srv = Server(server[1], server[2])
                try:
                    e = dict(os.environ)
                    e.update(cenv)
                    cmd = ["taskset", "-c", "1"] + cargv + ["--url", f"ws://127.0.0.1:{srv.port}/", "-t", str(seconds),
                                                            "-w", str(warmup)] + args
                    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=seconds + warmup + 120,
                                       env=e)
                    results.append(json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 and r.stdout.strip()
                                   else {"error": r.stderr.strip()[-200:]})
                finally:
                    srv.stop()
            rows.append((wl, cname, results))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build-bench"))
    ap.add_argument("--npm", default=os.environ.get("WSC_NPM_CACHE", os.path.expanduser("~/.cache/wsc/npm")))
    ap.add_argument("--servers", help="comma-separated subset, e.g. wsc,uWebSockets,raw-TCP")
    ap.add_argument("--workloads", help="comma-separated subset of: " + ",".join(w[0] for w in WORKLOADS))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--no-client-side", action="store_true")
    ap.add_argument("--out", default=None, help="write results.md and results.json into this folder")
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loadgen = os.path.join(a.build, "bench", "loadgen")
    srvs, notes = servers(a.build, a.npm)
    if a.servers:
        want = a.servers.split(",")
        srvs = [s for s in srvs if s[0] in want]
    wls = [w for w in WORKLOADS if not a.workloads or w[0] in a.workloads.split(",")]

    results = {}  # (workload, server) -> [run results]
    for wname, label, wargs in wls:
        here = [s for s in srvs if not (s[3] and wname == "upgrade")]  # no handshake on raw TCP
        # Runs take turns across servers, so that a slow phase of the machine falls on all of them.
        for _ in range(a.runs):
            for s in here:
                results.setdefault((wname, s[0]), []).append(run_once(loadgen, s, wargs, a.seconds, a.warmup))
        for s in here:
            runs = results[(wname, s[0])]
            m = median(runs, "msg_per_s")
            errs = [r["error"] for r in runs if "error" in r]
            print(f"  {wname:9} {s[0]:18} {fmt(m, 'rate'):>9} msg/s  cpu/msg {fmt(median(runs, 'server_cpu_per_msg_ns'), 'ns')}"
                  + (f"  errors: {errs[0]}" if errs else ""), file=sys.stderr, flush=True)

    lines = ["# wsc benchmark kit results", "",
             f"Machine: {os.cpu_count()} CPUs, loopback; server pinned to CPU 0, load generator (wsc's client, "
             f"bench/loadgen.c) to CPU 1; each figure the median of {a.runs} runs of {a.seconds:g} s "
             f"after {a.warmup:g} s of warm-up, a fresh server per run, the servers taking turns run by run.", ""]
    lines += [f"- {n}" for n in notes]
    if notes:
        lines.append("")
    for wname, label, _ in wls:
        base_u = results.get((wname, "uWebSockets"))
        base_r = results.get((wname, "raw-TCP"))
        lines += [f"## {label}", "",
                  "| server | msg/s | MB/s | p50 µs | p99 µs | p99.9 µs | server CPU/msg | msg per server CPU-s "
                  "| msg/s ÷ uWS | CPU/msg ÷ uWS | msg/s ÷ raw | loadgen busy |"
                  + (" bytes/idle conn (after open / after a message) |" if wname.startswith("idle") else ""),
                  "|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|" if wname.startswith("idle") else "")]
        for s in srvs:
            runs = results.get((wname, s[0]))
            if runs is None:
                continue
            errs = [r["error"] for r in runs if "error" in r]
            if len(errs) == len(runs):
                lines.append(f"| {s[0]} | failed: {errs[0]} |" + " |" * 11)
                continue
            rate = median(runs, "msg_per_s")
            cpu = median(runs, "server_cpu_per_msg_ns")
            busy = median(runs, "client_cpu_s")
            secs = median(runs, "seconds")
            row = [s[0], fmt(rate, "rate"), fmt(median(runs, "mb_per_s")), fmt(median(runs, "p50_us")),
                   fmt(median(runs, "p99_us")), fmt(median(runs, "p999_us")), fmt(cpu, "ns"),
                   fmt(1e9 / cpu if cpu else None, "rate"),
                   fmt(ratio(rate, median(base_u, "msg_per_s")) if base_u else None, "x"),
                   fmt(ratio(cpu, median(base_u, "server_cpu_per_msg_ns")) if base_u else None, "x"),
                   fmt(ratio(rate, median(base_r, "msg_per_s")) if base_r else None, "x"),
                   f"{100 * busy / secs:.0f}%" if busy and secs else "—"]
            if wname.startswith("idle"):
                row.append(f"{fmt(median(runs, 'bytes_per_conn_open'), 'bytes')} / {fmt(median(runs, 'bytes_per_conn'), 'bytes')}")
            if errs:
                row[0] += f" ({len(errs)} of {len(runs)} runs failed)"
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")

    pairs = [s[0][:-4] for s in srvs if is_tls(s[0]) and any(b[0] == s[0][:-4] for b in srvs)]
    if pairs:
        lines += ["## TLS: each server over wss:// against itself in cleartext, in the same run", "",
                  "uWebSockets reports about 60% of its cleartext throughput over TLS.", "",
                  "| workload | server | TLS msg/s | cleartext msg/s | TLS ÷ cleartext msg/s | TLS CPU/msg "
                  "| cleartext CPU/msg | TLS ÷ cleartext CPU/msg |", "|---|---|---|---|---|---|---|---|"]
        for wname, label, _ in wls:
            for base in pairs:
                t, c = results.get((wname, base + "+TLS")), results.get((wname, base))
                if not t or not c:
                    continue
                tr, cr = median(t, "msg_per_s"), median(c, "msg_per_s")
                tc, cc = median(t, "server_cpu_per_msg_ns"), median(c, "server_cpu_per_msg_ns")
                lines.append(f"| {label} | {base} | {fmt(tr, 'rate')} | {fmt(cr, 'rate')} | {fmt(ratio(tr, cr), 'x')} | "
                             f"{fmt(tc, 'ns')} | {fmt(cc, 'ns')} | {fmt(ratio(tc, cc), 'x')} |")
        lines.append("")

    uws = next((s for s in srvs if s[0] == "uWebSockets"), None)
    if not a.no_client_side and uws is not None and (not a.workloads or "client" in a.workloads.split(",")):
        lines += ["## Client side: against uWebSockets' server", "",
                  "| workload | client | msg/s | client CPU/msg | p50 µs | p99 µs | client busy |", "|---|---|---|---|---|---|---|"]
        for wl, cname, runs in client_side(loadgen, uws, a.seconds, a.warmup, a.runs, a.npm):
            busy = median(runs, "client_cpu_s")
            secs = median(runs, "seconds")
            lines.append(f"| {wl} | {cname} | {fmt(median(runs, 'msg_per_s'), 'rate')} | "
                         f"{fmt(median(runs, 'client_cpu_per_msg_ns'), 'ns')} | {fmt(median(runs, 'p50_us'))} | "
                         f"{fmt(median(runs, 'p99_us'))} | {f'{100 * busy / secs:.0f}%' if busy and secs else '—'} |")
        lines.append("")

    text = "\n".join(lines)
    print(text)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "results.md"), "w") as f:
            f.write(text + "\n")
        with open(os.path.join(a.out, "results.json"), "w") as f:
            json.dump({f"{k[0]}/{k[1]}": v for k, v in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
