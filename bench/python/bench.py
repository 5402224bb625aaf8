"""wsc's Python binding against python-websockets, Python on both sides, in one run.

    bench.py [--runs 3] [--seconds 4] [--warmup 1] [--quick] [--impls wsc,websockets]
             [--workloads pp32,pp1k,w16x32,w16x1k,c100x32,c100x1k] [--out results.json]

Every measurement starts a fresh echo server (echo_server.py) pinned to CPU 0 and a fresh load
generator (loadgen.py) pinned to CPU 1, both with the same library. The implementations take turns
within each run, in an order that alternates run by run. Every figure is the median of --runs
runs. Prints Markdown tables on standard output (progress on standard error); --out also writes
the raw results as JSON. Run through run.sh, which sets WSC_LIBRARY and PYTHONPATH.
"""
import argparse
import ctypes
import json
import os
import platform
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
IMPLS = ["wsc", "websockets"]

# key, label, connections, messages in flight per connection, message size
WORKLOADS = [
    ("pp32", "1 conn × 1 in flight, 32 B", 1, 1, 32),
    ("pp1k", "1 conn × 1 in flight, 1 KiB", 1, 1, 1024),
    ("w16x32", "1 conn × 16 in flight, 32 B", 1, 16, 32),
    ("w16x1k", "1 conn × 16 in flight, 1 KiB", 1, 16, 1024),
    ("c100x32", "100 conns × 16 in flight, 32 B", 100, 16, 32),
    ("c100x1k", "100 conns × 16 in flight, 1 KiB", 100, 16, 1024),
]

children = set()  # Popen objects still to be reaped


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def _die_with_parent():
    """In the child, before exec: SIGTERM when the driver dies, whatever kills it (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def spawn(argv, **kw):
    # Their own session: a Ctrl-C at the terminal reaches the driver alone, which ends them itself.
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, preexec_fn=_die_with_parent, start_new_session=True, **kw)
    children.add(p)
    return p


def stop(p, grace=3.0):
    """Closes p's standard input (its signal to leave), then SIGTERM, then SIGKILL."""
    try:
        if p.stdin and not p.stdin.closed:
            p.stdin.close()
    except OSError:
        pass
    for sig, wait in ((None, grace), (signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        if sig is not None and p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
        try:
            p.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    children.discard(p)
    return p.returncode


def stop_all():
    for p in list(children):
        if p.poll() is None:
            try:
                p.kill()
            except ProcessLookupError:
                pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        children.discard(p)


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def read_port(p, timeout=15.0):
    deadline = time.monotonic() + timeout
    buf = b""
    fd = p.stdout.fileno()
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
        for line in buf.split(b"\n")[:-1]:
            if line.startswith(b"PORT "):
                return int(line.split()[1])
    return None


def read_all(p, timeout):
    """p's standard output until it closes and p exits; None past the timeout."""
    deadline = time.monotonic() + timeout
    fd = p.stdout.fileno()
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    try:
        p.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return None
    return b"".join(chunks)


def tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
        return "\n".join(lines[-n:])
    except OSError:
        return ""


def measure(impl, wl, seconds, warmup, tmp):
    """One fresh server and one load generator. Returns the load generator's figures, or a dict with
    "error" (and the processes' stderr) when something failed."""
    key, _label, conns, inflight, size = wl
    srv_err = os.path.join(tmp, f"server-{impl}-{key}.err")
    gen_err = os.path.join(tmp, f"loadgen-{impl}-{key}.err")
    with open(srv_err, "wb") as se:
        srv = spawn([PY, os.path.join(HERE, "echo_server.py"), "--impl", impl, "--cpu", "0"],
                    stdout=subprocess.PIPE, stderr=se)
    try:
        port = read_port(srv)
        if port is None:
            stop(srv)
            return {"error": f"{impl} server did not start (exit {srv.returncode})", "stderr": tail(srv_err)}
        with open(gen_err, "wb") as ge:
            gen = spawn([PY, os.path.join(HERE, "loadgen.py"), "--impl", impl, "--port", str(port),
                         "--conns", str(conns), "--inflight", str(inflight), "--size", str(size),
                         "--seconds", str(seconds), "--warmup", str(warmup), "--server-pid", str(srv.pid),
                         "--cpu", "1"], stdout=subprocess.PIPE, stderr=ge)
        out = read_all(gen, timeout=warmup + seconds + 60)  # its stdin stays open: closing it says "stop"
        if out is None:
            stop(gen)
            return {"error": f"{impl} load generator timed out", "stderr": tail(gen_err)}
        stop(gen)
        if gen.returncode != 0:
            return {"error": f"{impl} load generator failed (exit {gen.returncode})",
                    "stderr": tail(gen_err) + ("\n--- server stderr ---\n" + tail(srv_err) if tail(srv_err) else "")}
        result = json.loads(out.decode().strip().splitlines()[-1])
    finally:
        rc = stop(srv)
    if rc != 0:
        return {"error": f"{impl} server exited with {rc}", "stderr": tail(srv_err)}
    return result


BUSY = """
import os, sys, time
os.sched_setaffinity(0, {int(sys.argv[1])})
t0, c0 = time.perf_counter(), time.process_time()
while time.perf_counter() - t0 < float(sys.argv[2]):
    pass
print((time.process_time() - c0) / (time.perf_counter() - t0))
"""


def cpu_available(seconds=0.5):
    """The share of each CPU two busy processes, one pinned on each, get: about 100% on an idle
    machine; less when this VM's vCPUs wait for the host (steal that the guest does not see)."""
    ps = [spawn([PY, "-c", BUSY, str(cpu), str(seconds)], stdout=subprocess.PIPE) for cpu in (0, 1)]
    shares = []
    for p in ps:
        out = read_all(p, seconds + 10)
        stop(p)
        try:
            shares.append(float(out))
        except (TypeError, ValueError):
            return None
    return min(shares)


def source_revision():
    """The repository's commit, and whether the binding or libwsc's sources differ from it."""
    root = os.path.dirname(os.path.dirname(HERE))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "bindings/python/wsc", "src",
                                "include"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head and head + (" with uncommitted changes to the binding or libwsc" if dirty else "")


def fmt_pct(x):
    return "?" if x is None else f"{x:.0%}"


def fmt_rate(x):
    return "failed" if x is None else f"{x:,.0f}"


def fmt_us(x):
    if x is None:
        return "failed"
    return f"{x:.1f} µs" if x >= 10 else f"{x:.2f} µs"


def fmt_ratio(a, b):
    return "—" if a is None or b is None or not b else f"{a / b:.2f}×"


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def tables(workloads, impls, results):
    a, b = impls[0], impls[1] if len(impls) > 1 else None
    lines = []
    if b:
        lines += [f"| workload | {a} msg/s | {b} msg/s | {a} ÷ {b} | {a} server CPU/msg | {b} server CPU/msg "
                  f"| {a} ÷ {b} CPU/msg |", "|---|---:|---:|---:|---:|---:|---:|"]
    else:
        lines += [f"| workload | {a} msg/s | {a} server CPU/msg |", "|---|---:|---:|"]
    for wl in workloads:
        key, label = wl[0], wl[1]
        rate = {i: median(r.get("msg_per_s") for r in results[(i, key)]) for i in impls}
        cpu = {i: median(r.get("server_cpu_us_per_msg") for r in results[(i, key)]) for i in impls}
        if b:
            lines.append(f"| {label} | {fmt_rate(rate[a])} | {fmt_rate(rate[b])} | {fmt_ratio(rate[a], rate[b])} "
                         f"| {fmt_us(cpu[a])} | {fmt_us(cpu[b])} | {fmt_ratio(cpu[a], cpu[b])} |")
        else:
            lines.append(f"| {label} | {fmt_rate(rate[a])} | {fmt_us(cpu[a])} |")
    # Each run's figures (the implementations ran back to back in each run, so a run's ratio compares
    # them under the same conditions of the machine), and how busy each side was: a side near 100% of
    # its CPU is the bottleneck; two sides near 50% are taking turns.
    head = ["workload"] + [f"{i} msg/s, each run" for i in impls]
    if b:
        head.append(f"{a} ÷ {b}, each run")
    head += [f"{i} server / generator CPU" for i in impls]
    lines += ["", "| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for wl in workloads:
        key, label = wl[0], wl[1]
        row = [label]
        for i in impls:
            row.append(", ".join(fmt_rate(r.get("msg_per_s")) for r in results[(i, key)]))
        if b:
            row.append(", ".join(fmt_ratio(ra.get("msg_per_s"), rb.get("msg_per_s"))
                                 for ra, rb in zip(results[(a, key)], results[(b, key)])))
        for i in impls:
            rs = results[(i, key)]
            srv = median(r["server_cpu_s"] / r["seconds"] if r.get("server_cpu_s") is not None else None for r in rs)
            gen = median(r.get("loadgen_cpu_share") for r in rs)
            row.append("—" if srv is None or gen is None else f"{srv:.0%} / {gen:.0%}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0, help="measured interval of each measurement")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up before the measured interval")
    ap.add_argument("--quick", action="store_true", help="1 run of 1 s after 0.3 s of warm-up: a smoke test")
    ap.add_argument("--impls", default=",".join(IMPLS))
    ap.add_argument("--workloads", default=",".join(w[0] for w in WORKLOADS))
    ap.add_argument("--out", help="also write the raw results here, as JSON")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.seconds, args.warmup = 1, 1.0, 0.3
    impls = [i for i in args.impls.split(",") if i]
    if not impls or any(i not in IMPLS for i in impls):
        ap.error(f"--impls: choose among {', '.join(IMPLS)}")
    keys = {w[0]: w for w in WORKLOADS}
    if any(k not in keys for k in args.workloads.split(",")):
        ap.error(f"--workloads: choose among {', '.join(keys)}")
    workloads = [keys[k] for k in args.workloads.split(",")]
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)

    # Both libraries must load before anything is measured.
    probe = subprocess.run([PY, "-c", "import json, wsc, websockets; print(json.dumps([wsc.libwsc_version, "
                            "getattr(wsc._ffi, 'path', '?'), websockets.version.version]))"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        log("bench: cannot import wsc and websockets with", PY)
        log(probe.stderr.strip())
        return 2
    wsc_version, wsc_path, ws_version = json.loads(probe.stdout)
    ncpu = os.cpu_count() or 1
    revision = source_revision()
    log(f"bench: Python {platform.python_version()} ({PY}), libwsc {wsc_version} ({wsc_path}), "
        f"python-websockets {ws_version}; {ncpu} CPUs" + ("" if ncpu >= 2 else " (no pinning: fewer than 2)"))
    log(f"bench: {args.runs} runs × {len(workloads)} workloads × {len(impls)} implementations, "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s each")

    results = {(i, w[0]): [] for i in impls for w in workloads}
    errors = []
    avail = []  # cpu_available() before each run
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="wsc-pybench-") as tmp:
            for run in range(args.runs):
                order = impls if run % 2 == 0 else impls[::-1]
                avail.append(cpu_available() if (os.cpu_count() or 1) >= 2 else None)
                log(f"bench: run {run + 1}: each CPU gives a busy process {fmt_pct(avail[-1])} of its time")
                for wl in workloads:
                    for impl in order:
                        r = measure(impl, wl, args.seconds, args.warmup, tmp)
                        results[(impl, wl[0])].append(r)
                        if "error" in r:
                            errors.append((run + 1, wl[1], impl, r))
                            log(f"bench: run {run + 1}, {wl[1]}, {impl}: {r['error']}\n{r.get('stderr', '')}")
                        else:
                            cpu = r.get("server_cpu_us_per_msg")
                            log(f"bench: run {run + 1}/{args.runs}, {wl[1]:32} {impl:10} {r['msg_per_s']:>10,.0f} msg/s"
                                + ("" if cpu is None else f"  server {cpu:.2f} µs/msg")
                                + f"  generator CPU {r['loadgen_cpu_share']:.0%}")
    finally:
        stop_all()

    print(f"Python {platform.python_version()}, libwsc {wsc_version} through the binding"
          + (f" (commit {revision})" if revision else "") + ", python-websockets "
          f"{ws_version}; server pinned to CPU 0, load generator to CPU 1; binary messages; compression off, "
          f"max_size and max_queue None, no keepalive pings on both; "
          f"medians of {args.runs} run(s) of {args.seconds:g} s after {args.warmup:g} s of warm-up "
          f"({time.monotonic() - started:.0f} s in all). Two busy processes, one per CPU, got "
          f"{', '.join(fmt_pct(a) for a in avail)} of each CPU before each run.\n")
    print(tables(workloads, impls, results))
    if errors:
        print(f"\n{len(errors)} measurement(s) failed:")
        for run, label, impl, r in errors:
            print(f"- run {run}, {label}, {impl}: {r['error']}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "revision": revision, "cpu_available": avail, "python": platform.python_version(),
                       "libwsc": wsc_version, "websockets": ws_version,
                       "results": [{"impl": i, "workload": k, "runs": v} for (i, k), v in results.items()]},
                      f, indent=1)
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # main's finally has ended the children
        log("bench: interrupted")
        sys.exit(130)
