#!/usr/bin/python3
"""An interop peer for wsc on python-websockets (Debian's python3-websockets, 10.x).

  websockets_peer.py server      echo server on 127.0.0.1 (an ephemeral port): prints "PORT <n>",
                                 echoes text as text and binary as binary, runs until stdin closes;
                                 wss:// with PEER_TLS_CERT and PEER_TLS_KEY
  websockets_peer.py client URL  sends text and binary messages of 0 B to 16 MiB to an echo server
                                 at URL, checks every echo, closes with 1000; exit status 0 on
                                 success, else 1 with the reason on stderr; a wss:// URL is
                                 verified against PEER_TLS_CA
"""
import asyncio
import os
import ssl
import sys

import websockets

SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20]
MAX_SIZE = 64 << 20

# Pieces of the text payload: ASCII and 2-, 3- and 4-byte UTF-8 sequences.
PIECES = ["Hello, wsc! ", "\u00e9", "interop ", "\u20ac", "0123456789 ", "\U0001F600", "~", "\u00df\u00fc"]


def text_payload(n):
    """Valid UTF-8 text of exactly n bytes (as str), the same for every n as the other peers."""
    block = "".join(PIECES).encode("utf-8")
    whole = block * (n // len(block))
    tail = bytearray()
    rest = n - len(whole)
    i = 0
    while len(tail) < rest:
        piece = PIECES[i % len(PIECES)].encode("utf-8")
        i += 1
        if len(piece) <= rest - len(tail):
            tail += piece
        else:
            tail += b"x" * (rest - len(tail))
    data = whole + bytes(tail)
    assert len(data) == n
    return data.decode("utf-8")


def binary_payload(n):
    """n bytes: byte i is (i * 31 + 7 + (i >> 8)) & 0xff (a pattern with a period of 65536)."""
    period = bytes((i * 31 + 7 + (i >> 8)) & 0xFF for i in range(min(n, 65536)))
    return period * (n // 65536) + period[: n % 65536] if n >= 65536 else period


def fail(reason):
    print(f"websockets_peer: FAIL: {reason}", file=sys.stderr, flush=True)
    sys.exit(1)


async def echo(ws, path=None):
    try:
        async for message in ws:
            await ws.send(message)  # str stays text, bytes stay binary
    except websockets.ConnectionClosed:
        pass


async def stdin_closed():
    """Returns when stdin reaches end of file (or fails)."""
    loop = asyncio.get_running_loop()

    def read_all():
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except OSError:
            pass

    await loop.run_in_executor(None, read_all)


# PEER_DEFLATE=1: offer / accept permessage-deflate; else no compression.
COMPRESSION = "deflate" if os.environ.get("PEER_DEFLATE") == "1" else None


def server_ssl():
    """PEER_TLS_CERT and PEER_TLS_KEY: serve wss:// with them."""
    if not os.environ.get("PEER_TLS_CERT"):
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.environ["PEER_TLS_CERT"], os.environ["PEER_TLS_KEY"])
    return ctx


def client_ssl(url):
    """wss:// URLs: verify the server against PEER_TLS_CA (host name included)."""
    if not url.startswith("wss://"):
        return None
    return ssl.create_default_context(cafile=os.environ.get("PEER_TLS_CA"))


async def run_server():
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=MAX_SIZE, ping_interval=None,
                                compression=COMPRESSION, ssl=server_ssl()) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await stdin_closed()
    return 0


def describe(message):
    kind = "text" if isinstance(message, str) else "binary"
    size = len(message.encode("utf-8")) if isinstance(message, str) else len(message)
    return f"{kind} of {size} bytes"


async def run_client(url):
    try:
        ws = await websockets.connect(url, max_size=MAX_SIZE, ping_interval=None, open_timeout=30,
                                      close_timeout=30, compression=COMPRESSION, ssl=client_ssl(url))
        if COMPRESSION and "permessage-deflate" not in (ws.response_headers.get("Sec-WebSocket-Extensions") or ""):
            fail("permessage-deflate was not negotiated")
    except Exception as e:  # noqa: BLE001 - any failure to connect is the reason
        fail(f"cannot connect to {url}: {e!r}")
    try:
        pong = await ws.ping(b"interop ping")
        await asyncio.wait_for(pong, 30)
        for size in SIZES:
            for message in (text_payload(size), binary_payload(size)):
                await ws.send(message)
                reply = await asyncio.wait_for(ws.recv(), 60)
                if type(reply) is not type(message):
                    fail(f"sent {describe(message)}, got back {describe(reply)} (wrong type)")
                if reply != message:
                    a = message.encode("utf-8") if isinstance(message, str) else message
                    b = reply.encode("utf-8") if isinstance(reply, str) else reply
                    first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
                    fail(f"sent {describe(message)}, got back {describe(reply)} differing from byte {first}")
        await ws.close(1000, "done")
    except websockets.ConnectionClosed as e:
        fail(f"the connection closed early: {e!r}")
    except asyncio.TimeoutError:
        fail("timed out waiting for an echo or a pong")
    if ws.close_sent is None or ws.close_sent.code != 1000:
        fail(f"no close frame with 1000 was sent (close_sent={ws.close_sent!r})")
    if ws.close_rcvd is None:
        fail("the server never answered the close frame")
    if ws.close_rcvd.code != 1000:
        fail(f"the server answered the close with {ws.close_rcvd.code} {ws.close_rcvd.reason!r}, not 1000")
    print(f"websockets_peer: OK: {2 * len(SIZES)} messages echoed, closed 1000", file=sys.stderr, flush=True)
    return 0


def main(argv):
    if len(argv) == 2 and argv[1] == "server":
        return asyncio.run(run_server())
    if len(argv) == 3 and argv[1] == "client":
        return asyncio.run(run_client(argv[2]))
    print("usage: websockets_peer.py server | websockets_peer.py client URL", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
