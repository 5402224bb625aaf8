"""Echo server for the Python benchmark: wsc's binding or python-websockets, on asyncio.

    echo_server.py --impl wsc|websockets [--cpu N] [--port 0]

Listens on 127.0.0.1 (compression off, no limit on message size nor on the queue of received
messages, no keepalive pings), prints "PORT n" once listening, echoes every message as it came
(binary stays binary), and exits when its standard input closes. Pinned to CPU --cpu (default 0)
when the machine has it.
"""
import argparse
import asyncio
import os
import sys

from stdin_eof import on_stdin_eof


def pin(cpu):
    if cpu is not None and 0 <= cpu < (os.cpu_count() or 1):
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError as e:
            print(f"echo_server: cannot pin to CPU {cpu}: {e}", file=sys.stderr)


async def stdin_closed():
    """Resolves when our standard input reaches end of file (the driver is gone)."""
    done = asyncio.get_running_loop().create_future()
    on_stdin_eof(asyncio.get_running_loop(), lambda: done.done() or done.set_result(None))
    await done


async def serve_websockets(port):
    import websockets

    async def echo(ws, *_path):  # 10.4 still passes the path to two-argument handlers
        async for message in ws:
            await ws.send(message)

    server = await websockets.serve(echo, "127.0.0.1", port, compression=None, max_size=None,
                                    max_queue=None, ping_interval=None)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    await stdin_closed()
    server.close()
    await asyncio.wait_for(server.wait_closed(), 5)


async def serve_wsc(port):
    import wsc

    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    # The same settings as python-websockets' below.
    server = await wsc.serve(echo, "127.0.0.1", port, compression=None, max_size=None, max_queue=None,
                             ping_interval=None)
    print("PORT", server.port, flush=True)
    await stdin_closed()
    server.close()
    await asyncio.wait_for(server.wait_closed(), 5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", choices=["wsc", "websockets"], required=True)
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    pin(args.cpu)
    run = serve_wsc if args.impl == "wsc" else serve_websockets
    try:
        asyncio.run(run(args.port))
    except asyncio.TimeoutError:
        print("echo_server: connections still open 5 s after close()", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
