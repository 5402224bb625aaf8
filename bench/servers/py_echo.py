# python-websockets (Debian's) echo server for the benchmark kit, on asyncio: listens on
# 127.0.0.1, prints "PORT n", echoes every message, exits when stdin closes.
import asyncio
import sys

import websockets


async def echo(ws, path=None):
    async for message in ws:
        await ws.send(message)


async def main():
    server = await websockets.serve(echo, "127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0,
                                    max_size=None, max_queue=None, compression=None, ping_interval=None)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_reader(0, lambda: done.done() or (sys.stdin.buffer.raw.read(64) or done.set_result(None)))
    await done


asyncio.run(main())
