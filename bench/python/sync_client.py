"""The blocking client: wsc.sync against websocket-client (Debian's python3-websocket), the
library blocking Python scripts use today, measured in the same run against the same server.

The server is wsc's asyncio echo server in a child process pinned to CPU 0; the client runs
here, pinned to CPU 1, on one connection: ping-pong (1 in flight) and bursts of 16 (send 16,
then read the 16 echoes), 32 B and 1 KiB. Every echo is checked. Medians of --runs.

    /usr/bin/python3 bench/python/sync_client.py [--runs 3] [--seconds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BINDING = os.environ.get("WSC_PYTHON_BINDING", os.path.join(HERE, "..", "..", "bindings", "python"))
sys.path.insert(0, BINDING)

SERVER = """
import asyncio, os, sys, wsc
os.sched_setaffinity(0, {0})
async def echo(ws):
    async for m in ws:
        await ws.send(m)
async def main():
    server = await wsc.serve(echo, "127.0.0.1", 0, max_size=None, max_queue=None)
    print(server.port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
"""


def wsc_client(uri: str):
    import wsc.sync
    ws = wsc.sync.connect(uri, compression=None, max_size=None, ping_interval=None)
    return ws.send, lambda: ws.recv(timeout=10), ws.close


def websocket_client(uri: str):
    import websocket
    ws = websocket.create_connection(uri, enable_multithread=False)
    ws.sock.setsockopt(__import__("socket").IPPROTO_TCP, __import__("socket").TCP_NODELAY, 1)
    return (lambda m: ws.send_binary(m)), ws.recv, ws.close


def measure(make, uri: str, size: int, burst: int, seconds: float) -> float:
    send, recv, close = make(uri)
    msgs = [os.urandom(size) for _ in range(burst)]
    n = 0
    end = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < end:
        for m in msgs:
            send(m)
        for m in msgs:
            if recv() != m:
                raise SystemExit("echo mismatch")
        n += burst
    rate = n / (time.perf_counter() - start)
    close()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=BINDING)
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        uri = f"ws://127.0.0.1:{int(server.stdout.readline())}/"
        os.sched_setaffinity(0, {1})
        print("| workload | wsc.sync msg/s | websocket-client msg/s | ratio |")
        print("|---|---:|---:|---:|")
        for size, burst in ((32, 1), (1024, 1), (32, 16), (1024, 16)):
            ours, theirs = [], []
            for _ in range(args.runs):
                ours.append(measure(wsc_client, uri, size, burst, args.seconds))
                theirs.append(measure(websocket_client, uri, size, burst, args.seconds))
            a, b = statistics.median(ours), statistics.median(theirs)
            label = f"1 conn, {'ping-pong' if burst == 1 else f'bursts of {burst}'}, {size} B"
            print(f"| {label} | {a:,.0f} | {b:,.0f} | {a / b:.2f}x |", flush=True)
    finally:
        server.stdin.close()
        server.wait(10)


if __name__ == "__main__":
    main()
