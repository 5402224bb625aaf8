"""How much a CPU-bound thread or a slow handler in the server's process delays other connections.

Issue 9 asks the Python binding to let neither stall other connections' I/O more than needed.
Each scenario starts an echo server in a child process (pinned to CPU 0), then measures from
this process (CPU 1) the round-trip time of 32 B messages, one in flight, on probe connections:

  baseline      nothing else runs in the server's process
  busy-thread   a Python thread in the server's process spins (pure Python, holds the GIL)
  slow-handler  another connection's handler takes 10 ms per message (await asyncio.sleep)
                while its client floods it; max_queue pauses reading that connection only

The busy-thread case runs three servers: wsc calling libwsc through PyDLL (the binding's
choice: calls keep the GIL), wsc through CDLL (each call lets the GIL go and must win it back),
and python-websockets. The slow-handler case also reports the server's RSS growth, which
max_queue and the write limit bound.

    /usr/bin/python3 bench/python/stall.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))


# ---- the server (child process) -----------------------------------------------------------------

def serve_main(impl: str, calls: str, busy: bool, port_fd: int) -> None:
    os.sched_setaffinity(0, {0})
    if busy:
        def spin():
            x = 0
            while True:
                x += 1
        threading.Thread(target=spin, daemon=True).start()

    async def echo(ws):
        if ws.path == "/slow":  # both libraries name the request path so
            async for m in ws:
                await asyncio.sleep(0.01)
            return
        async for m in ws:
            await ws.send(m)

    async def main():
        if impl == "wsc":
            import wsc
            from wsc import _ffi
            if calls == "cdll":
                _ffi.lib = _ffi.declared(ctypes.CDLL(_ffi.path))
                import wsc.connection
                wsc.connection._send = _ffi.lib.wsc_conn_send
            server = await wsc.serve(echo, "127.0.0.1", 0)
            port = server.port
        else:
            import websockets
            server = await websockets.serve(echo, "127.0.0.1", 0, compression=None)
            port = server.sockets[0].getsockname()[1]
        os.write(port_fd, f"{port}\n".encode())
        await asyncio.Future()

    asyncio.run(main())


# ---- the probes (this process) ---------------------------------------------------------------

def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def probe(port: int, seconds: float, flood: bool, server_pid: int) -> dict:
    import websockets
    uri = f"ws://127.0.0.1:{port}/"
    rtts: list[float] = []
    stop = time.monotonic() + seconds
    rss0 = rss_kb(server_pid)

    async def one():
        async with websockets.connect(uri, compression=None) as ws:
            msg = b"p" * 32
            while time.monotonic() < stop:
                t = time.perf_counter()
                await ws.send(msg)
                assert await ws.recv() == msg
                rtts.append(time.perf_counter() - t)

    async def flooder():
        async with websockets.connect(f"ws://127.0.0.1:{port}/slow", compression=None) as ws:
            msg = b"f" * 1024
            while time.monotonic() < stop:
                try:
                    await asyncio.wait_for(ws.send(msg), 0.5)
                except asyncio.TimeoutError:
                    pass

    tasks = [one() for _ in range(4)] + ([flooder()] if flood else [])
    await asyncio.gather(*tasks)
    rtts.sort()
    q = lambda p: rtts[min(len(rtts) - 1, int(p * len(rtts)))] * 1e6
    return {"n": len(rtts), "p50": q(0.50), "p99": q(0.99), "max": rtts[-1] * 1e6,
            "rss_growth_kb": rss_kb(server_pid) - rss0}


def run_case(impl: str, calls: str, busy: bool, flood: bool, seconds: float) -> dict:
    r, w = os.pipe()
    child = subprocess.Popen([sys.executable, __file__, "--serve", impl, calls, "1" if busy else "0", str(w)],
                             pass_fds=(w,))
    os.close(w)
    try:
        with os.fdopen(r) as f:
            port = int(f.readline())
        os.sched_setaffinity(0, {1})
        return asyncio.run(probe(port, seconds, flood, child.pid))
    finally:
        child.kill()
        child.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--serve", nargs=4)
    args = ap.parse_args()
    if args.serve:
        impl, calls, busy, fd = args.serve
        serve_main(impl, calls, busy == "1", int(fd))
        return
    cases = [("baseline", "wsc", "pydll", False, False), ("baseline", "websockets", "-", False, False),
             ("busy-thread", "wsc", "pydll", True, False), ("busy-thread", "wsc", "cdll", True, False),
             ("busy-thread", "websockets", "-", True, False),
             ("slow-handler", "wsc", "pydll", False, True), ("slow-handler", "websockets", "-", False, True)]
    print(f"4 probe connections, 32 B, 1 in flight each, {args.seconds:g} s per case; server on CPU 0\n")
    print("| scenario | server | libwsc calls | round trips | p50 µs | p99 µs | max µs | server RSS growth KiB |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for name, impl, calls, busy, flood in cases:
        r = run_case(impl, calls, busy, flood, args.seconds)
        print(f"| {name} | {impl} | {calls} | {r['n']} | {r['p50']:.0f} | {r['p99']:.0f} | {r['max']:.0f} | "
              f"{r['rss_growth_kb'] if flood else '-'} |", flush=True)


if __name__ == "__main__":
    main()
