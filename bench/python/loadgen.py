"""Load generator for the Python benchmark: wsc's binding or python-websockets, on asyncio.

    loadgen.py --impl wsc|websockets --port P --conns C --inflight W --size S
               --seconds T --warmup U [--server-pid PID] [--cpu N]

Opens C connections to ws://127.0.0.1:P/ (compression off, no limit on message size nor on the
queue of received messages, no keepalive pings). Each keeps W binary messages of S bytes in
flight: it sends W, then one more for every echo it gets back. Every message starts with the
connection's number and a sequence number (12 bytes) followed by bytes drawn per connection;
each echo must equal, byte for byte, the oldest message still awaiting its echo on that
connection (a mismatch, a text frame or a closed connection fails the run with a traceback and
exit status 1).

Echoes are counted for T seconds after U seconds of warm-up. The server's CPU time over that
interval is utime+stime from /proc/PID/stat, read at its start and end; our own from os.times().
Then the connections stop sending, take back what is still in flight, and close. One JSON line
on standard output gives the figures. Exits at once if standard input closes (the driver is gone).
"""
import argparse
import asyncio
import collections
import json
import os
import random
import struct
import sys
import time

from stdin_eof import on_stdin_eof

HEADER = struct.Struct("<IQ")  # connection number, sequence number
CLK_TCK = os.sysconf("SC_CLK_TCK")


class EchoMismatch(Exception):
    pass


def proc_cpu(pid):
    """utime+stime of process pid (all its threads), in seconds; None without a pid."""
    if not pid:
        return None
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rindex(b")") + 2:].split()  # after "pid (comm) ": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # stat fields 14 and 15


def own_cpu():
    t = os.times()
    return t.user + t.system


class Counters:
    def __init__(self):
        self.echoes = 0  # verified echoes, all connections
        self.stop = False


async def drive(ws, cid, size, window, counters):
    """One connection: keeps `window` messages in flight and checks every echo, until told to stop;
    then takes back the messages still in flight."""
    body = random.Random(cid).randbytes(size - HEADER.size)
    pending = collections.deque()  # sent, echo not yet seen, oldest first
    pack = HEADER.pack
    seq = 0
    for _ in range(window):
        m = pack(cid, seq) + body
        seq += 1
        pending.append(m)
        await ws.send(m)
    while pending:
        got = await ws.recv()
        want = pending.popleft()
        if got != want:
            raise EchoMismatch(f"connection {cid}: echo of message {HEADER.unpack_from(want)[1]} differs: "
                               f"sent {len(want)} bytes {want[:16].hex()}..., got {type(got).__name__} of "
                               f"{len(got)}: {got[:16].hex() if isinstance(got, bytes) else repr(got[:16])}...")
        counters.echoes += 1
        if not counters.stop:
            m = pack(cid, seq) + body
            seq += 1
            pending.append(m)
            await ws.send(m)
    await ws.close()
    return seq


async def open_conn(impl, uri):
    if impl == "wsc":
        import wsc
        # The same settings as python-websockets' below.
        return await wsc.connect(uri, compression=None, max_size=None, max_queue=None, ping_interval=None)
    import websockets
    return await websockets.connect(uri, compression=None, max_size=None, max_queue=None, ping_interval=None)


def exit_when_stdin_closes(loop):
    def gone():
        print("loadgen: standard input closed, exiting", file=sys.stderr)
        os._exit(2)
    on_stdin_eof(loop, gone)  # no usable stdin (a terminal works too): nothing to watch


async def main(args):
    loop = asyncio.get_running_loop()
    exit_when_stdin_closes(loop)
    uri = f"ws://127.0.0.1:{args.port}/"
    conns = await asyncio.gather(*(open_conn(args.impl, uri) for _ in range(args.conns)))
    counters = Counters()
    marks = {}

    def mark(name):
        marks[name] = (time.perf_counter(), counters.echoes, proc_cpu(args.server_pid), own_cpu())
        if name == "end":
            counters.stop = True

    tasks = [asyncio.ensure_future(drive(ws, i, args.size, args.inflight, counters)) for i, ws in enumerate(conns)]
    loop.call_later(args.warmup, mark, "start")
    loop.call_later(args.warmup + args.seconds, mark, "end")
    # The first failure ends the run; otherwise every connection drains and closes.
    done, not_done = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for t in done:
        if t.exception() is not None:
            for u in not_done:
                u.cancel()
            raise t.exception()
    if "end" not in marks:
        raise RuntimeError("every connection finished before the measured interval ended")
    sent = sum(t.result() for t in tasks)
    (t0, n0, s0, c0), (t1, n1, s1, c1) = marks["start"], marks["end"]
    elapsed, n = t1 - t0, n1 - n0
    out = {
        "impl": args.impl, "conns": args.conns, "inflight": args.inflight, "size": args.size,
        "seconds": elapsed, "messages": n, "msg_per_s": n / elapsed,
        "server_cpu_s": None if s0 is None else s1 - s0,
        "server_cpu_us_per_msg": None if s0 is None or not n else (s1 - s0) / n * 1e6,
        "loadgen_cpu_share": (c1 - c0) / elapsed,
        "verified_total": counters.echoes, "sent_total": sent,
    }
    if counters.echoes != sent:
        raise RuntimeError(f"{sent} messages sent but {counters.echoes} echoes verified")
    print(json.dumps(out), flush=True)


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--impl", choices=["wsc", "websockets"], required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--inflight", type=int, default=1)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--server-pid", type=int, default=0)
    ap.add_argument("--cpu", type=int, default=1)
    args = ap.parse_args()
    if args.size < HEADER.size:
        ap.error(f"--size must be at least {HEADER.size} (the header)")
    if args.conns < 1 or args.inflight < 1 or args.seconds <= 0 or args.warmup < 0:
        ap.error("--conns and --inflight must be at least 1, --seconds positive")
    return args


if __name__ == "__main__":
    a = parse()
    if a.cpu is not None and 0 <= a.cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {a.cpu})
    asyncio.run(main(a))
