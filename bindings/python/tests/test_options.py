"""The asyncio API's options and features, each over real sockets: keepalive pings, ping latency,
close and open timeouts, max_queue and write_limit flow control, redirects, reconnection,
process_request (plain and async), origins, subprotocol selection, fragmented sends, broadcast,
request headers, and a server closed without closing its connections.

Peers that misbehave on purpose (never answer pings, never answer a close, never answer at all)
are small asyncio TCP servers and clients below that speak just enough WebSocket by hand.
"""

import asyncio
import base64
import hashlib
import socket
import struct
import time

import pytest
import websockets

import wsc
from wsc import _ffi


def run(coro, timeout=10):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def echo(ws):
    async for message in ws:
        await ws.send(message)


# ---- a WebSocket peer by hand ----------------------------------------------------------------

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10

UPGRADE_REQUEST = (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def accept_value(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key.strip() + GUID).digest())


def unmask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


def frame(op: int, payload: bytes = b"", fin: bool = True) -> bytes:
    """An unmasked frame (a server's)."""
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | op])
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


async def read_frame(reader: asyncio.StreamReader) -> tuple[bool, int, bytes]:
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    key = await reader.readexactly(4) if b1 & 0x80 else None
    payload = await reader.readexactly(n)
    return bool(b0 & 0x80), b0 & 0x0F, unmask(payload, key) if key else payload


class RawServer:
    """Accepts TCP connections and, with ``handshake``, answers the upgrade request with a 101 by
    hand; then records each frame received as (fin, opcode, payload). It never answers a close;
    it answers pings only when ``pong`` says so (a predicate on the payload), after
    ``pong_delay``; it reads nothing after the handshake until ``reading`` is set."""

    def __init__(self, handshake=True, pong=None, pong_delay=0.0, read=True):
        self.handshake, self.pong, self.pong_delay = handshake, pong, pong_delay
        self.reading = asyncio.Event()
        if read:
            self.reading.set()
        self.frames: list[tuple[bool, int, bytes]] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.accepted = 0
        self.eof = asyncio.Event()

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        self.uri = f"ws://127.0.0.1:{self.port}/"
        return self

    async def __aexit__(self, *exc):
        for w in self.writers:
            w.transport.abort()
        self.server.close()
        await self.server.wait_closed()

    def pings(self) -> list[bytes]:
        return [p for _, op, p in self.frames if op == OP_PING]

    async def _serve(self, reader, writer):
        self.accepted += 1
        self.writers.append(writer)
        try:
            if not self.handshake:
                await reader.read()  # nothing is ever answered: wait for the client to leave
                return
            head = await reader.readuntil(b"\r\n\r\n")
            key = next(line.split(b":", 1)[1] for line in head.split(b"\r\n")
                       if line.lower().startswith(b"sec-websocket-key:"))
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept_value(key) + b"\r\n\r\n")
            await self.reading.wait()
            while True:
                f = await read_frame(reader)
                self.frames.append(f)
                if f[1] == OP_PING and self.pong is not None and self.pong(f[2]):
                    if self.pong_delay:
                        await asyncio.sleep(self.pong_delay)
                    writer.write(frame(OP_PONG, f[2]))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.eof.set()


async def raw_client(port: int, request: bytes = UPGRADE_REQUEST):
    """A TCP client that sends ``request`` (an upgrade request, by default) and reads its answer's
    head; it then never reads, writes or answers anything unless told to."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n") if request else b""
    return reader, writer, head


# ---- ping_interval, ping_timeout, ping() ---------------------------------------------------

def test_keepalive_drops_a_server_that_never_answers_pings():
    async def main():
        async with RawServer(pong=None) as peer:
            ws = await wsc.connect(peer.uri, ping_interval=0.2, ping_timeout=0.2)
            t0 = time.monotonic()
            await asyncio.wait_for(ws.wait_closed(), 5)
            elapsed = time.monotonic() - t0
            assert 0.3 <= elapsed <= 2.0, elapsed  # interval + timeout = 0.4 s
            assert ws.close_code == 1006
            assert peer.pings(), "a keepalive ping was sent before giving up"
            with pytest.raises(wsc.ConnectionClosedError) as e:
                await ws.recv()
            assert e.value.name == "WSC_ETIMEDOUT"
            await asyncio.wait_for(peer.eof.wait(), 2)  # the TCP connection was closed too
    run(main())


def time_a_silent_clients_end(end, **options):
    """A server handler times end(ws) against a hand-made client that completes the handshake and
    then never reads its socket; returns the elapsed time and the close code it saw."""
    result = {}

    async def handler(ws):
        t0 = time.monotonic()
        await end(ws)
        result["elapsed"], result["code"] = time.monotonic() - t0, ws.close_code

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0, **options) as server:
            reader, writer, head = await raw_client(server.port)
            assert head.startswith(b"HTTP/1.1 101")
            for _ in range(50):
                if "code" in result:
                    break
                await asyncio.sleep(0.1)
            writer.transport.abort()
    run(main())
    return result


def test_keepalive_drops_a_client_that_never_answers_pings():
    # The client never reads its socket: the server's ping stays unanswered.
    result = time_a_silent_clients_end(lambda ws: ws.wait_closed(), ping_interval=0.2, ping_timeout=0.2)
    assert result["code"] == 1006
    assert 0.3 <= result["elapsed"] <= 2.0, result


def test_keepalive_keeps_a_live_peer_open_past_several_intervals():
    async def main():
        # A hand-made peer that answers pings: the pings keep coming and the connection stays.
        async with RawServer(pong=lambda payload: True) as peer:
            ws = await wsc.connect(peer.uri, ping_interval=0.1, ping_timeout=0.15)
            await asyncio.sleep(1.0)
            assert ws.state == 1
            assert len(peer.pings()) >= 3, peer.pings()  # about one per interval
            ws.terminate()
            await ws.wait_closed()
        # Both ends wsc, both pinging, and no data at all for 8 intervals.
        async with wsc.serve(echo, "127.0.0.1", 0, ping_interval=0.1, ping_timeout=0.15) as server:
            async with wsc.connect(f"ws://127.0.0.1:{server.port}", ping_interval=0.1, ping_timeout=0.15) as ws:
                await asyncio.sleep(0.8)
                assert ws.state == 1
                await ws.send("still here")
                assert await ws.recv() == "still here"
            assert ws.close_code == 1000
    run(main())


def test_ping_timeout_none_never_drops_a_silent_peer():
    async def main():
        async with RawServer(pong=None) as peer:
            ws = await wsc.connect(peer.uri, ping_interval=0.1, ping_timeout=None)
            await asyncio.sleep(0.8)
            assert ws.state == 1
            assert len(peer.pings()) >= 1  # it pinged, went unanswered, and waits on
            ws.terminate()
            await asyncio.wait_for(ws.wait_closed(), 2)
    run(main())


def test_ping_interval_none_really_sends_nothing():
    async def main():
        async with RawServer(pong=None) as peer:
            ws = await wsc.connect(peer.uri, ping_interval=None)
            await asyncio.sleep(0.5)
            assert peer.pings() == [] and ws.state == 1
            ws.terminate()
            await asyncio.wait_for(ws.wait_closed(), 2)
    run(main())


def test_ping_returns_a_future_of_the_latency():
    async def main():
        async with RawServer(pong=lambda payload: True, pong_delay=0.2) as peer:
            ws = await wsc.connect(peer.uri, ping_interval=None)
            assert ws.latency == 0.0
            fut = await ws.ping(b"abc")
            assert not fut.done()
            latency = await asyncio.wait_for(fut, 3)
            assert 0.15 <= latency <= 2.0, latency  # the peer waited 0.2 s before answering
            assert ws.latency == latency
            assert peer.pings() == [b"abc"]
            # Without data, a random payload; a str payload is sent encoded.
            await asyncio.wait_for(await ws.ping(), 3)
            await asyncio.wait_for(await ws.ping("é"), 3)
            assert len(peer.pings()[1]) > 0 and peer.pings()[2] == "é".encode()
            ws.terminate()
            await ws.wait_closed()
        # Against a wsc server, which answers at once.
        async with wsc.serve(echo, "127.0.0.1", 0) as server:
            async with wsc.connect(f"ws://127.0.0.1:{server.port}") as ws:
                latency = await asyncio.wait_for(await ws.ping(), 3)
                assert 0 <= latency < 1.0 and ws.latency == latency
    run(main())


def test_a_pong_answers_earlier_pings_and_pending_pings_fail_on_close():
    async def main():
        async with RawServer(pong=lambda payload: payload == b"2") as peer:
            ws = await wsc.connect(peer.uri, ping_interval=None)
            f1 = await ws.ping(b"1")
            with pytest.raises(RuntimeError):
                await ws.ping(b"1")  # already waiting for a pong with that payload
            f2 = await ws.ping(b"2")
            await asyncio.wait_for(f2, 3)
            assert f1.done() and f1.result() >= 0  # answered by the pong to a later ping (RFC 6455 §5.5.3)
            f3 = await ws.ping(b"3")  # never answered
            await asyncio.sleep(0.1)
            assert not f3.done()
            ws.terminate()
            with pytest.raises(wsc.ConnectionClosed):
                await asyncio.wait_for(f3, 3)
    run(main())


def test_an_unsolicited_pong_does_not_answer_a_ping():
    async def main():
        async with RawServer(pong=None) as peer:
            ws = await wsc.connect(peer.uri, ping_interval=None)
            fut = await ws.ping(b"mine")
            for _ in range(50):
                if peer.pings():
                    break
                await asyncio.sleep(0.02)
            # A pong as a unidirectional heartbeat (RFC 6455 §5.5.3), and an empty one.
            peer.writers[0].write(frame(OP_PONG, b"heartbeat") + frame(OP_PONG, b""))
            await asyncio.sleep(0.2)
            assert not fut.done()
            peer.writers[0].write(frame(OP_PONG, b"mine"))
            assert await asyncio.wait_for(fut, 3) >= 0.15
            ws.terminate()
            await ws.wait_closed()
    run(main())


# ---- close_timeout, open_timeout -------------------------------------------------------------

def test_close_timeout_when_the_server_never_answers_our_close():
    async def main():
        async with RawServer() as peer:
            ws = await wsc.connect(peer.uri, close_timeout=0.3)
            t0 = time.monotonic()
            await asyncio.wait_for(ws.close(), 5)
            elapsed = time.monotonic() - t0
            assert 0.2 <= elapsed <= 2.0, elapsed
            assert ws.close_code == 1006
            assert ws.state == 3
            closes = [p for _, op, p in peer.frames if op == OP_CLOSE]
            assert closes == [struct.pack("!H", 1000)]  # our close frame did go out
    run(main())


def test_close_timeout_when_a_client_never_answers_the_servers_close():
    result = time_a_silent_clients_end(lambda ws: ws.close(1000), close_timeout=0.3)
    assert result["code"] == 1006
    assert 0.2 <= result["elapsed"] <= 2.0, result


def test_open_timeout_when_the_server_never_answers():
    async def main():
        async with RawServer(handshake=False) as peer:
            t0 = time.monotonic()
            with pytest.raises(TimeoutError):
                await wsc.connect(peer.uri, open_timeout=0.3)
            elapsed = time.monotonic() - t0
            assert 0.2 <= elapsed <= 2.0, elapsed
            assert peer.accepted == 1
            await asyncio.wait_for(peer.eof.wait(), 2)  # the client hung up
    run(main())
    assert not wsc._conn.live


def test_open_timeout_on_a_server_drops_a_client_that_sends_nothing():
    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, open_timeout=0.3) as server:
            reader, writer, _ = await raw_client(server.port, b"")
            t0 = time.monotonic()
            await asyncio.wait_for(reader.read(), 5)  # until the server closes
            elapsed = time.monotonic() - t0
            assert 0.2 <= elapsed <= 2.0, elapsed
            writer.close()
    run(main())


# ---- max_queue, write_limit ------------------------------------------------------------------

def test_max_queue_stops_reading_and_the_senders_send_waits_until_the_handler_reads():
    state = {}
    count, size = 400, 65536  # 25 MiB in all: more than the kernel's buffers hold

    async def handler(ws):
        state["ws"] = ws
        await state["go"].wait()
        got = []
        async for m in ws:
            got.append(m)
            if len(got) == count:
                break
        state["got"] = got

    async def main():
        state["go"] = asyncio.Event()
        async with wsc.serve(handler, "127.0.0.1", 0, max_queue=4) as server:
            async with wsc.connect(f"ws://127.0.0.1:{server.port}", write_limit=2**15) as ws:
                sent = 0

                async def sender():
                    nonlocal sent
                    for i in range(count):
                        await ws.send(i.to_bytes(4, "big") * (size // 4))
                        sent += 1

                task = asyncio.create_task(sender())
                last = -1
                while sent != last:  # until the sender makes no progress
                    last = sent
                    await asyncio.sleep(0.3)
                assert sent < count
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(task), 0.3)
                assert sent == last  # still blocked in send()
                # Waiting for the drain: above write_limit's low-water mark (a quarter of it).
                assert _ffi.lib.wsc_conn_buffered_amount(ws._conn) > 2**15 // 4
                srv_ws = state["ws"]
                assert srv_ws._paused and len(srv_ws._messages) == 4  # max_queue, then no more reading
                state["go"].set()
                await asyncio.wait_for(task, 30)
                for _ in range(300):
                    if "got" in state:
                        break
                    await asyncio.sleep(0.05)
        got = state["got"]
        assert len(got) == count
        assert all(m == i.to_bytes(4, "big") * (size // 4) for i, m in enumerate(got))
    run(main(), 60)


def test_write_limit_is_the_high_water_mark_of_send():
    async def fill(uri, write_limit, size):
        """Sends until send() waits; after each send() that returned, the buffer is under the
        high-water mark. Returns the connection, the task, the buffered amounts, and how many
        were sent."""
        ws = await wsc.connect(uri, write_limit=write_limit, ping_interval=None, compression=None)
        seen, n = [], [0]

        async def sender():
            for i in range(100000):
                await ws.send(b"x" * size)
                seen.append(_ffi.lib.wsc_conn_buffered_amount(ws._conn))
                n[0] += 1

        task = asyncio.create_task(sender())
        last = -1
        while n[0] != last:
            last = n[0]
            await asyncio.sleep(0.3)
        return ws, task, seen, n

    async def main():
        # (write_limit, high-water mark, low-water mark): an int is the high mark, a quarter of it the low.
        for write_limit, high, low in [(2**14, 2**14, 2**12), ((2**18, 2**16), 2**18, 2**16)]:
            async with RawServer(read=False) as peer:
                ws, task, seen, n = await fill(peer.uri, write_limit, 4096)
                assert not task.done()  # send() waits
                # Once the peer's kernel buffers are full, send() returns while under the high mark
                # (about to reach it), and then waits above the low one for the drain.
                assert high // 2 <= max(seen) < high, (high, max(seen))
                blocked_at = _ffi.lib.wsc_conn_buffered_amount(ws._conn)
                assert low < blocked_at < high + 4096 + 16, (low, high, blocked_at)
                before = n[0]
                peer.reading.set()  # the peer reads again: send() goes on
                for _ in range(100):
                    if n[0] > before + 10:
                        break
                    await asyncio.sleep(0.05)
                assert n[0] > before + 10
                task.cancel()
                ws.terminate()
                await ws.wait_closed()
    run(main(), 60)


# ---- redirects -------------------------------------------------------------------------------

def test_redirect_is_followed_to_another_server():
    paths = []

    async def handler(ws):
        paths.append(ws.request.path)
        await echo(ws)

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0) as target:
            location = f"ws://127.0.0.1:{target.port}/x"

            def redirect(path, headers):
                return 302, [("Location", location)], b""

            async with wsc.serve(echo, "127.0.0.1", 0, process_request=redirect) as first:
                uri = f"ws://127.0.0.1:{first.port}/start"
                async with wsc.connect(uri) as ws:
                    assert ws.remote_address == ("127.0.0.1", target.port)
                    await ws.send("landed")
                    assert await ws.recv() == "landed"
                assert paths == ["/x"]
                with pytest.raises(wsc.InvalidStatus) as e:
                    await wsc.connect(uri, follow_redirects=False)
                assert e.value.status == 302
                assert e.value.headers["location"] == location
                assert paths == ["/x"]
    run(main())


def test_redirect_loops_and_too_many_redirects_fail():
    async def main():
        ports = {}

        def to(name):
            return lambda path, headers: (302, [("Location", f"ws://127.0.0.1:{ports[name]}/")], b"")

        async with wsc.serve(echo, "127.0.0.1", 0, process_request=to("b")) as a, \
                wsc.serve(echo, "127.0.0.1", 0, process_request=to("a")) as b, \
                wsc.serve(echo, "127.0.0.1", 0, process_request=to("d")) as c, \
                wsc.serve(echo, "127.0.0.1", 0) as d:
            ports.update(a=a.port, b=b.port, c=c.port, d=d.port)
            with pytest.raises(wsc.InvalidHandshake) as ex:
                await wsc.connect(f"ws://127.0.0.1:{a.port}/")  # a -> b -> a
            assert ex.value.name == "WSC_EREDIRECT"
            async with wsc.connect(f"ws://127.0.0.1:{c.port}/", max_redirects=1) as ws:
                assert ws.remote_address[1] == d.port
            # e -> c -> d: two redirects, one more than allowed.
            async with wsc.serve(echo, "127.0.0.1", 0, process_request=to("c")) as e:
                with pytest.raises(wsc.InvalidHandshake) as ex:
                    await wsc.connect(f"ws://127.0.0.1:{e.port}/", max_redirects=1)
                assert ex.value.name == "WSC_EREDIRECT"
                async with wsc.connect(f"ws://127.0.0.1:{e.port}/", max_redirects=2) as ws:
                    assert ws.remote_address[1] == d.port
    run(main())


# ---- reconnection: async for ws in connect(uri) ----------------------------------------------

def test_async_for_reconnects_after_the_server_closes_with_1011():
    count = [0]

    async def handler(ws):
        count[0] += 1
        if count[0] == 1:
            await ws.send("first")
            await ws.close(1011, "try again")
        else:
            await ws.send("second")
            await ws.wait_closed()

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0) as server:
            c = wsc.connect(f"ws://127.0.0.1:{server.port}")
            c.backoff_min = 0.05
            got, codes, conns = [], [], []
            async for ws in c:
                conns.append(ws)
                try:
                    got.append(await ws.recv())
                    if got[-1] == "second":
                        await ws.close()
                        break
                    await ws.recv()
                except wsc.ConnectionClosedError as e:
                    codes.append(e.rcvd_code)
            assert got == ["first", "second"]
            assert codes == [1011]
            assert len(conns) == 2 and conns[0] is not conns[1] and count[0] == 2
            assert conns[0].close_code == 1011 and conns[1].close_code == 1000
    run(main())


def test_async_for_does_not_retry_a_4xx_but_retries_5xx_and_refused_connections():
    attempts = []

    def process_request(path, headers):
        attempts.append(path)
        if path == "/forbidden":
            return 403, [], b"no"
        if path == "/busy" and attempts.count("/busy") <= 2:
            return 503, [], b"later"
        return None

    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, process_request=process_request) as server:
            c = wsc.connect(f"ws://127.0.0.1:{server.port}/forbidden")
            c.backoff_min = 0.05
            with pytest.raises(wsc.InvalidStatus) as e:
                async for ws in c:
                    pytest.fail("no connection was expected")
            assert e.value.status == 403
            assert attempts.count("/forbidden") == 1  # not retried

            c = wsc.connect(f"ws://127.0.0.1:{server.port}/busy")
            c.backoff_min = 0.05
            t0 = time.monotonic()
            async for ws in c:
                await ws.send("in")
                assert await ws.recv() == "in"
                await ws.close()
                break
            assert attempts.count("/busy") == 3  # two 503s, then accepted
            assert time.monotonic() - t0 < 3.0

        # Nothing listens yet: refused, retried, and connected once a server comes up.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        c = wsc.connect(f"ws://127.0.0.1:{port}/")
        c.backoff_min = 0.05

        async def client():
            async for ws in c:
                await ws.send("late")
                reply = await ws.recv()
                await ws.close()
                return reply

        task = asyncio.create_task(client())
        await asyncio.sleep(0.3)
        assert not task.done()
        async with wsc.serve(echo, "127.0.0.1", port):
            assert await asyncio.wait_for(task, 5) == "late"
    run(main())


# ---- process_request ----------------------------------------------------------------------

def test_process_request_as_a_plain_function():
    seen = []

    def process_request(path, headers):
        seen.append((path, headers.get("x-who")))
        if path == "/raise":
            raise ValueError("a bug in the hook")
        if path == "/teapot":
            return 418, {"X-Tea": "earl grey"}, "short and stout"
        return None

    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, process_request=process_request) as server:
            base = f"ws://127.0.0.1:{server.port}"
            async with wsc.connect(base + "/ok?x=1", additional_headers={"X-Who": "me"}) as ws:
                await ws.send("hi")
                assert await ws.recv() == "hi"
            with pytest.raises(wsc.InvalidStatus) as e:
                await wsc.connect(base + "/teapot")
            assert (e.value.status, e.value.headers["x-tea"], e.value.body) == (418, "earl grey", b"short and stout")
            with pytest.raises(wsc.InvalidStatus) as e:
                await wsc.connect(base + "/raise")
            assert e.value.status == 500
            async with wsc.connect(base + "/after"):  # the server is still fine
                pass
    run(main())
    assert seen == [("/ok?x=1", "me"), ("/teapot", None), ("/raise", None), ("/after", None)]


def test_process_request_as_a_coroutine_function_is_deferred():
    async def process_request(path, headers):
        if path.startswith("/slow"):
            await asyncio.sleep(0.4)
        if path.endswith("/deny"):
            return 401, [("WWW-Authenticate", "Basic")], b"who are you?"
        if path == "/raise":
            await asyncio.sleep(0.05)
            raise RuntimeError("async hook failed")
        return None

    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, process_request=process_request) as server:
            base = f"ws://127.0.0.1:{server.port}"
            t0 = time.monotonic()
            async with wsc.connect(base + "/slow") as ws:
                assert time.monotonic() - t0 >= 0.35
                await ws.send("after the hook")
                assert await ws.recv() == "after the hook"
            t0 = time.monotonic()
            with pytest.raises(wsc.InvalidStatus) as e:
                await wsc.connect(base + "/slow/deny")
            assert time.monotonic() - t0 >= 0.35
            assert e.value.status == 401 and e.value.body == b"who are you?"
            with pytest.raises(wsc.InvalidStatus) as e:
                await wsc.connect(base + "/raise")
            assert e.value.status == 500

            # While a slow hook waits, the loop goes on: a fast request is served meanwhile.
            async def timed(path):
                t = time.monotonic()
                async with wsc.connect(base + path) as ws:
                    await ws.send(path)
                    assert await ws.recv() == path
                return time.monotonic() - t

            slow, fast = await asyncio.gather(timed("/slow"), timed("/fast"))
            assert slow >= 0.35 and fast < 0.3, (slow, fast)
    run(main())


def test_a_client_that_leaves_while_the_async_hook_runs_does_not_break_the_server():
    log = []

    async def process_request(path, headers):
        log.append("start")
        try:
            await asyncio.sleep(0.5 if path == "/" else 0)
        except asyncio.CancelledError:
            log.append("cancelled")
            raise
        log.append("decided")
        return None

    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, process_request=process_request) as server:
            for _ in range(3):
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.write(UPGRADE_REQUEST)
                await asyncio.sleep(0.1)
                writer.transport.abort()  # gone while the hook sleeps
            await asyncio.sleep(0.6)  # past the hooks' sleep: nothing may decide a freed request
            assert log == ["start", "cancelled"] * 3  # each hook cancelled as its client left
            assert not server._deferred
            async with wsc.connect(f"ws://127.0.0.1:{server.port}/quick") as ws:
                await ws.send("fine")
                assert await ws.recv() == "fine"
            # A client that leaves just as the hook decides (either may come first).
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(UPGRADE_REQUEST)
            await asyncio.sleep(0.5)
            writer.transport.abort()
            await asyncio.sleep(0.1)
            async with wsc.connect(f"ws://127.0.0.1:{server.port}/quick") as ws:
                await ws.send("still fine")
                assert await ws.recv() == "still fine"
            assert not server._deferred
    run(main())


# ---- origins, subprotocols -----------------------------------------------------------------

def test_origins():
    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, origins=["https://good.example", None]) as server:
            uri = f"ws://127.0.0.1:{server.port}"
            async with wsc.connect(uri, origin="https://good.example") as ws:
                await ws.send("ok")
                assert await ws.recv() == "ok"
            async with wsc.connect(uri):  # no Origin: admitted by None
                pass
            with pytest.raises(wsc.InvalidStatus) as e:
                await wsc.connect(uri, origin="https://evil.example")
            assert e.value.status == 403
        async with wsc.serve(echo, "127.0.0.1", 0, origins=["https://good.example"]) as server:
            uri = f"ws://127.0.0.1:{server.port}"
            with pytest.raises(wsc.InvalidStatus) as e:
                await wsc.connect(uri)  # no Origin, and None not allowed
            assert e.value.status == 403
            with pytest.raises(wsc.InvalidStatus) as e:
                await wsc.connect(uri, origin="https://GOOD.example")  # compared exactly
            assert e.value.status == 403
            async with wsc.connect(uri, origin="https://good.example"):
                pass
    run(main())


def test_select_subprotocol():
    calls = []
    server_side = []

    def select(offered, available):
        calls.append((list(offered), list(available)))
        if "boom" in offered:
            raise RuntimeError("select failed")
        if "bogus" in offered:
            return "never-offered"
        return next((p for p in reversed(offered) if p in available), None)

    async def handler(ws):
        server_side.append(ws.subprotocol)
        await echo(ws)

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0, subprotocols=["a", "b", "c"], select_subprotocol=select) as server:
            uri = f"ws://127.0.0.1:{server.port}"
            async with wsc.connect(uri, subprotocols=["a", "b"]) as ws:
                assert ws.subprotocol == "b"  # the hook's choice, not the first in common
            async with wsc.connect(uri) as ws:
                assert ws.subprotocol is None
            for offered in (["boom"], ["bogus"]):
                with pytest.raises(wsc.InvalidStatus) as e:
                    await wsc.connect(uri, subprotocols=offered)
                assert e.value.status == 500
            # A python-websockets client offering none the hook takes: connected without one.
            async with websockets.connect(uri, subprotocols=["zzz"]) as pws:
                assert pws.subprotocol is None
                await pws.send("x")
                assert await pws.recv() == "x"
        # The default choice: the server's first one the client offered.
        async with wsc.serve(handler, "127.0.0.1", 0, subprotocols=["c", "b"]) as server:
            async with wsc.connect(f"ws://127.0.0.1:{server.port}", subprotocols=["a", "b", "c"]) as ws:
                assert ws.subprotocol == "c"
        # A server that knows no subprotocol accepts none (a python-websockets client).
        async with wsc.serve(handler, "127.0.0.1", 0) as server:
            async with websockets.connect(f"ws://127.0.0.1:{server.port}", subprotocols=["chat"]) as pws:
                assert pws.subprotocol is None
    run(main())
    assert calls[0] == (["a", "b"], ["a", "b", "c"])
    assert server_side == ["b", None, None, "c", None]


# ---- fragmented sends ---------------------------------------------------------------------

def test_fragments_reach_a_python_websockets_server_as_one_message():
    received = []
    close_codes = []

    async def handler(ws, path=None):
        try:
            async for m in ws:
                received.append(m)
        finally:
            close_codes.append(ws.close_code)

    async def agen():
        for piece in ("async ", "iter", "able"):
            await asyncio.sleep(0.01)
            yield piece

    async def main():
        async with websockets.serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            ws = await wsc.connect(f"ws://127.0.0.1:{port}")
            await ws.send(["frag", "men", "ted"])
            await ws.send([b"\x00\x01", bytearray(b"\x02"), memoryview(b"\x03")])
            await ws.send(p for p in ["gen", "erator"])
            await ws.send(agen())
            await ws.send(["single"])
            await ws.send([])  # nothing at all
            with pytest.raises(TypeError):
                await ws.send({"a": "dict"})
            with pytest.raises(TypeError):
                await ws.send([1, 2])  # nothing sent: the connection stays
            with pytest.raises(TypeError):
                await ws.send(["text", b"bytes"])  # found before the first fragment went out
            await ws.send("plain")
            with pytest.raises(TypeError):
                await ws.send(["one", "two", b"three"])  # a message cut short: closed with 1011
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert ws.close_code == 1011
            for _ in range(50):
                if close_codes:
                    break
                await asyncio.sleep(0.02)
    run(main())
    assert received == ["fragmented", b"\x00\x01\x02\x03", "generator", "async iterable", "single", "plain"]
    assert close_codes == [1011]


def test_fragments_on_the_wire():
    async def main():
        async with RawServer() as peer:
            ws = await wsc.connect(peer.uri, compression=None)
            await ws.send(["ab", "cd", "ef"])
            await ws.send([b"xy"])
            await ws.send("whole")
            for _ in range(100):
                if len(peer.frames) >= 5:
                    break
                await asyncio.sleep(0.02)
            assert peer.frames == [(False, OP_TEXT, b"ab"), (False, OP_CONT, b"cd"), (True, OP_CONT, b"ef"),
                                   (True, OP_BINARY, b"xy"), (True, OP_TEXT, b"whole")]
            ws.terminate()
            await ws.wait_closed()
    run(main())


# ---- broadcast --------------------------------------------------------------------------

def test_broadcast_reaches_every_client():
    async def handler(ws):
        await ws.wait_closed()

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0) as server:
            clients = [await wsc.connect(f"ws://127.0.0.1:{server.port}") for _ in range(5)]
            assert len(server.connections) == 5
            wsc.broadcast(server.connections, "to all")
            assert [await asyncio.wait_for(c.recv(), 3) for c in clients] == ["to all"] * 5
            assert server.broadcast(b"\x00bin") == 5
            assert [await asyncio.wait_for(c.recv(), 3) for c in clients] == [b"\x00bin"] * 5

            # A closed connection is skipped, by both.
            await clients[0].close()
            for _ in range(100):
                if len(server.connections) == 4:
                    break
                await asyncio.sleep(0.02)
            closed = [s for s in server.connections] + [clients[0]]
            wsc.broadcast(closed, "four")
            assert server.broadcast("four again") == 4
            for c in clients[1:]:
                assert await asyncio.wait_for(c.recv(), 3) == "four"
                assert await asyncio.wait_for(c.recv(), 3) == "four again"

            # Client connections too: the server's handlers read them.
            got = []

            async def reader(ws):
                got.append(await ws.recv())

            async with wsc.serve(reader, "127.0.0.1", 0) as other:
                cs = [await wsc.connect(f"ws://127.0.0.1:{other.port}") for _ in range(3)]
                wsc.broadcast(cs, "from clients")
                for _ in range(100):
                    if len(got) == 3:
                        break
                    await asyncio.sleep(0.02)
                assert got == ["from clients"] * 3
                for c in cs:
                    await c.close()
            for c in clients[1:]:
                await c.close()
    run(main())


# ---- request headers ------------------------------------------------------------------------

def test_additional_headers_and_origin_are_in_the_servers_request_headers():
    requests = []

    async def handler(ws):
        requests.append((ws.request, ws.path, ws.request_headers))
        await echo(ws)

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0) as server:
            uri = f"ws://127.0.0.1:{server.port}/room/7?x=1"
            headers = [("X-Token", "abc"), ("X-Multi", "1"), ("X-Multi", "2")]
            async with wsc.connect(uri, additional_headers=headers, origin="https://app.example") as ws:
                await ws.send("hi")
                assert await ws.recv() == "hi"
            async with wsc.connect(uri, additional_headers=wsc.Headers({"X-Token": "def"})) as ws:
                await ws.send("hi")
                assert await ws.recv() == "hi"
    run(main())
    (req, path, rh), (req2, _, _) = requests
    assert req.path == path == "/room/7?x=1"
    assert isinstance(req.headers, wsc.Headers) and rh is req.headers
    assert req.headers["x-token"] == req.headers["X-TOKEN"] == "abc"
    assert req.headers.get_all("x-multi") == ["1", "2"]
    assert req.headers["origin"] == "https://app.example" and "ORIGIN" in req.headers
    assert req.headers["Upgrade"].lower() == "websocket"
    assert req2.headers["X-Token"] == "def" and "Origin" not in req2.headers
    with pytest.raises(KeyError):
        req2.headers["origin"]


# ---- closing a server ---------------------------------------------------------------------

def test_server_close_without_closing_connections_keeps_them():
    async def main():
        server = await wsc.serve(echo, "127.0.0.1", 0)
        uri = f"ws://127.0.0.1:{server.port}"
        ws = await wsc.connect(uri)
        server.close(close_connections=False)
        with pytest.raises(OSError):
            await wsc.connect(uri)  # no longer listening
        await ws.send("still here")
        assert await asyncio.wait_for(ws.recv(), 3) == "still here"
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 0.3)  # a connection is open
        await ws.close()
        assert ws.close_code == 1000
        await asyncio.wait_for(server.wait_closed(), 3)  # now everything is gone

        # The default closes them: 1001, going away.
        server = await wsc.serve(echo, "127.0.0.1", 0)
        ws = await wsc.connect(f"ws://127.0.0.1:{server.port}")
        server.close()
        with pytest.raises(wsc.ConnectionClosedOK) as e:
            await asyncio.wait_for(ws.recv(), 3)
        assert e.value.rcvd_code == 1001
        await asyncio.wait_for(server.wait_closed(), 3)
    run(main())
    assert not wsc._conn.live


def test_closing_a_connection_paused_by_max_queue_reads_on_to_the_peers_close():
    # Unread messages paused reading; close() resumes it, so the peer's close frame is seen at
    # once instead of after close_timeout with 1006. Likewise a server's close().
    async def flood(ws):
        for _ in range(200):
            await ws.send(b"x" * 100)
        await ws.wait_closed()

    async def main():
        async with wsc.serve(flood, "127.0.0.1", 0) as server:
            ws = await wsc.connect(f"ws://127.0.0.1:{server.port}", max_queue=4, close_timeout=5)
            await asyncio.sleep(0.2)
            assert ws._paused
            t = time.monotonic()
            await ws.close()
            assert time.monotonic() - t < 1.0
            assert (ws.close_code, ws._exc.was_clean) == (1000, True)

        got = []

        async def reader_server(ws):
            got.append(ws)
            await ws.wait_closed()

        server = await wsc.serve(reader_server, "127.0.0.1", 0, max_queue=4, close_timeout=5)
        async with websockets.connect(f"ws://127.0.0.1:{server.port}", compression=None) as client:
            for _ in range(200):
                await client.send(b"y" * 100)
            await asyncio.sleep(0.2)
            assert got and got[0]._paused
            t = time.monotonic()
            server.close()
            await server.wait_closed()
            assert time.monotonic() - t < 1.0
            assert got[0].close_code == 1001
    run(main())
