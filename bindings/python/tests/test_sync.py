"""The blocking API (wsc.sync) on real sockets: against itself, against python-websockets 10.4
(both directions) and against a bare socket that speaks just enough WebSocket to show what is
on the wire. Every blocking wait has a timeout, and after every test no thread and no file
descriptor of ours may be left (the sync loop thread ends by itself once nothing is open)."""

import asyncio
import base64
import concurrent.futures
import contextlib
import faulthandler
import hashlib
import os
import queue
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from http import HTTPStatus

import pytest
import websockets

import wsc
import wsc.sync

WAIT = 5  # seconds: the most any single wait below may take before the test fails


# ---- helpers ------------------------------------------------------------------------------

def fd_count():
    return len(os.listdir("/proc/self/fd"))


def sync_threads():
    return [t for t in threading.enumerate() if t.name.startswith("wsc-sync")]


def loop_threads():
    return [t for t in threading.enumerate() if t.name == "wsc-sync-loop"]


def wait_until(predicate, timeout=2.0, interval=0.01):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


@pytest.fixture(autouse=True)
def nothing_left_behind():
    """Fails the test if it leaves a thread or a descriptor; a hang dumps every stack and exits.
    (libuv's process-wide pipe is opened before by conftest.py.)"""
    assert wait_until(lambda: not sync_threads()), "an earlier test left a wsc.sync thread"
    threads = set(threading.enumerate())
    fds = fd_count()
    faulthandler.dump_traceback_later(60, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert wait_until(lambda: set(threading.enumerate()) <= threads), \
        f"threads left: {set(threading.enumerate()) - threads}"
    assert wait_until(lambda: fd_count() <= fds), f"descriptors left: {fd_count() - fds}"


def echo(ws):
    for message in ws:
        ws.send(message)


def uri(server, path="/"):
    return f"ws://127.0.0.1:{server.port}{path}"


def run_in_thread(fn, *args):
    """Runs fn(*args) in a thread; returns a future of its result."""
    fut = concurrent.futures.Future()

    def main():
        try:
            fut.set_result(fn(*args))
        except BaseException as e:
            fut.set_exception(e)

    t = threading.Thread(target=main, name="test-helper", daemon=True)
    t.start()
    fut.thread = t
    return fut


@contextlib.contextmanager
def websockets_server(handler, **kwargs):
    """A python-websockets 10.4 asyncio server, on its own asyncio loop in a thread of its own."""
    ready = threading.Event()
    state = {}

    async def main():
        state["loop"] = asyncio.get_running_loop()
        state["stop"] = state["loop"].create_future()
        async with websockets.serve(handler, "127.0.0.1", 0, **kwargs) as server:
            state["port"] = server.sockets[0].getsockname()[1]
            ready.set()
            await state["stop"]

    t = threading.Thread(target=asyncio.run, args=(main(),), name="test-websockets-server")
    t.start()
    try:
        assert ready.wait(WAIT), "the python-websockets server did not start"
        yield state["port"]
    finally:
        if "stop" in state:
            state["loop"].call_soon_threadsafe(lambda: state["stop"].done() or state["stop"].set_result(None))
        t.join(WAIT)
        assert not t.is_alive()


def run_async(coro, timeout=WAIT):
    return asyncio.run(asyncio.wait_for(coro, timeout))


GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


class BareServer:
    """One connection's server side on a plain socket: it answers the opening handshake (no
    extension, no subprotocol), then decodes the client's frames into ``frames`` as (fin,
    opcode, payload): at once, or with read=False once ``reading`` is set. It never sends
    anything else: no pong, no close. With handshake=False it does not even answer."""

    def __init__(self, read=True, handshake=True):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(WAIT)
        self.port = self.sock.getsockname()[1]
        self.reading = threading.Event()  # without read: set it to begin reading
        if read:
            self.reading.set()
        self.handshake = handshake
        self.frames = queue.Queue()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._main, name="test-bare-server", daemon=True)
        self.thread.start()

    def _main(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(0.05)
            buf = b""
            while b"\r\n\r\n" not in buf and not self.done.is_set():
                buf += self._recv(conn)
            if not self.handshake:
                self.done.wait(WAIT)
                return
            head, buf = buf.split(b"\r\n\r\n", 1)
            key = re.search(rb"(?im)^sec-websocket-key:\s*(\S+)", head).group(1)
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            while not self.done.is_set():
                if not self.reading.wait(0.05):
                    continue
                buf += self._recv(conn)
                while True:
                    frame, buf = self._parse(buf)
                    if frame is None:
                        break
                    self.frames.put(frame)
            self.done.wait(WAIT)

    def _recv(self, conn):
        try:
            data = conn.recv(65536)
        except socket.timeout:
            return b""
        except OSError:
            self.done.wait(WAIT)
            return b""
        if not data:
            self.done.wait(WAIT)
        return data

    @staticmethod
    def _parse(buf):
        if len(buf) < 2:
            return None, buf
        fin, opcode = buf[0] >> 7, buf[0] & 0x0F
        masked, n = buf[1] >> 7, buf[1] & 0x7F
        pos = 2
        if n == 126:
            if len(buf) < 4:
                return None, buf
            n, pos = struct.unpack("!H", buf[2:4])[0], 4
        elif n == 127:
            if len(buf) < 10:
                return None, buf
            n, pos = struct.unpack("!Q", buf[2:10])[0], 10
        assert masked, "a client's frames are masked"
        if len(buf) < pos + 4 + n:
            return None, buf
        mask, payload = buf[pos:pos + 4], buf[pos + 4:pos + 4 + n]
        if n:
            key = (mask * (n // 4 + 1))[:n]
            payload = (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")
        return (fin, opcode, payload), buf[pos + 4 + n:]

    def next_frame(self):
        return self.frames.get(timeout=WAIT)

    def close(self):
        self.done.set()
        self.thread.join(WAIT)
        self.sock.close()
        assert not self.thread.is_alive()


UPGRADE = (b"GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")

SINK = """
import asyncio, sys, websockets
async def sink(ws, path=None):
    try:
        async for _ in ws:
            pass
    except websockets.ConnectionClosed:
        pass
async def main():
    async with websockets.serve(sink, "127.0.0.1", 0, compression=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
"""


@contextlib.contextmanager
def sink_process():
    """A python-websockets server in another process that reads and drops every message: our
    client's loop thread then serves that one connection alone, and ends with it."""
    p = subprocess.Popen([sys.executable, "-c", SINK], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        ready = select.select([p.stdout], [], [], WAIT)[0]
        assert ready, "the python-websockets process did not start"
        yield int(p.stdout.readline())
    finally:
        p.stdin.close()
        try:
            p.wait(WAIT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stdout.close()


# ---- connect, send, recv, close --------------------------------------------------------------

def test_messages_of_both_types_and_many_sizes_round_trip():
    with wsc.sync.serve(echo, "127.0.0.1", 0) as server:
        with wsc.sync.connect(uri(server, "/some/path?x=1")) as ws:
            assert isinstance(ws, wsc.sync.ClientConnection)
            assert ws.state == 1
            assert ws.remote_address == ("127.0.0.1", server.port)
            for m in ["", "héllo wörld ✓", "x" * 70000, b"", b"\x00\xff\x80", os.urandom(300000),
                      bytearray(b"ba"), memoryview(b"mv")]:
                ws.send(m)
                got = ws.recv(timeout=WAIT)
                expected = m if isinstance(m, str) else bytes(m)
                assert got == expected and type(got) is type(expected)
            assert [c.path for c in server.connections] == ["/some/path?x=1"]
        assert ws.state == 3
        assert (ws.close_code, ws.close_reason) == (1000, "")


def test_send_rejects_what_is_not_a_message():
    with wsc.sync.serve(echo, "127.0.0.1", 0) as server, wsc.sync.connect(uri(server)) as ws:
        for bad in [42, None, {"a": 1}, 3.5]:
            with pytest.raises(TypeError):
                ws.send(bad)
        ws.send("still fine")
        assert ws.recv(timeout=WAIT) == "still fine"


def test_many_connections_on_one_loop_each_get_their_own_messages():
    # 150 clients and their 150 server sides on the one loop: libwsc's connection ids (slot |
    # sequence << 24) pass 2**31 and 2**32 on the way, and each id must still reach its own.
    n = 150
    with wsc.sync.serve(echo, "127.0.0.1", 0) as server:
        clients = [wsc.sync.connect(uri(server)) for _ in range(n)]
        for i, ws in enumerate(clients):
            ws.send(f"client {i}")
        assert [ws.recv(timeout=WAIT) for ws in clients] == [f"client {i}" for i in range(n)]
        for ws in clients:
            ws.close()


def test_recv_times_out_and_loses_nothing():
    def handler(ws):
        assert ws.recv(timeout=WAIT) == "later please"
        time.sleep(0.3)
        ws.send("here")
        ws.recv(timeout=WAIT)

    with wsc.sync.serve(handler, "127.0.0.1", 0) as server, wsc.sync.connect(uri(server)) as ws:
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.2)
        assert 0.18 <= time.monotonic() - start < 1.5
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0)
        ws.send("later please")
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.05)  # the answer comes after 0.3 s
        assert ws.recv(timeout=WAIT) == "here"
        assert ws.state == 1


def test_iteration_ends_on_a_normal_close_after_the_queued_messages():
    def handler(ws):
        for i in range(5):
            ws.send(f"m{i}")
        # returning closes with 1000

    with wsc.sync.serve(handler, "127.0.0.1", 0) as server:
        with wsc.sync.connect(uri(server)) as ws:
            assert ws.wait_closed(WAIT)  # closed before anything is read: the messages wait
            assert list(ws) == [f"m{i}" for i in range(5)]
            with pytest.raises(wsc.ConnectionClosedOK) as e:
                ws.recv(timeout=WAIT)
            assert (e.value.rcvd_code, e.value.was_clean) == (1000, True)
            with pytest.raises(wsc.ConnectionClosedOK):
                ws.send("too late")
        assert ws.close_code == 1000


def test_iteration_raises_on_an_error_close():
    def handler(ws):
        ws.send("one")
        ws.close(4000, "custom reason")

    with wsc.sync.serve(handler, "127.0.0.1", 0) as server, wsc.sync.connect(uri(server)) as ws:
        got = []
        with pytest.raises(wsc.ConnectionClosedError) as e:
            for m in ws:
                got.append(m)
        assert got == ["one"]
        assert (e.value.rcvd_code, e.value.rcvd_reason) == (4000, "custom reason")
        assert (ws.close_code, ws.close_reason) == (4000, "custom reason")


def test_close_codes_and_reasons_reach_the_other_side():
    seen = queue.Queue()

    def handler(ws):
        try:
            ws.recv(timeout=WAIT)
        except wsc.ConnectionClosed as e:
            seen.put((type(e), e.rcvd_code, e.rcvd_reason, ws.close_code))

    with wsc.sync.serve(handler, "127.0.0.1", 0) as server:
        ws = wsc.sync.connect(uri(server))
        ws.close(4001, "bye now")
        assert ws.state == 3
        assert (ws.close_code, ws.close_reason) == (4001, "bye now")
        assert seen.get(timeout=WAIT) == (wsc.ConnectionClosedError, 4001, "bye now", 4001)
        with pytest.raises(wsc.ConnectionClosedError) as e:
            ws.send("late")
        assert e.value.rcvd_code == 4001
        with pytest.raises(wsc.ConnectionClosedError):
            ws.recv(timeout=WAIT)
        with pytest.raises(wsc.ConnectionClosedError):
            ws.ping()
        ws.close()  # closing again does nothing

        ws = wsc.sync.connect(uri(server))
        ws.close()
        assert seen.get(timeout=WAIT) == (wsc.ConnectionClosedOK, 1000, "", 1000)


def test_terminate_closes_without_a_handshake():
    seen = queue.Queue()

    def handler(ws):
        try:
            ws.recv(timeout=WAIT)
        except wsc.ConnectionClosed as e:
            seen.put((type(e), e.rcvd_code, e.was_clean))

    with wsc.sync.serve(handler, "127.0.0.1", 0) as server:
        ws = wsc.sync.connect(uri(server))
        ws.terminate()
        assert ws.wait_closed(WAIT)
        assert ws.close_code == 1006
        with pytest.raises(wsc.ConnectionClosedError) as e:
            ws.recv(timeout=WAIT)
        assert e.value.was_clean is False
        assert seen.get(timeout=WAIT) == (wsc.ConnectionClosedError, 1006, False)


def test_a_handler_that_raises_closes_with_1011_and_the_server_goes_on():
    def handler(ws):
        if ws.recv(timeout=WAIT) == "boom":
            raise RuntimeError("boom")
        ws.send("fine")

    with wsc.sync.serve(handler, "127.0.0.1", 0) as server:
        with wsc.sync.connect(uri(server)) as ws:
            ws.send("boom")
            with pytest.raises(wsc.ConnectionClosedError) as e:
                ws.recv(timeout=WAIT)
            assert (e.value.rcvd_code, e.value.rcvd_reason) == (1011, "internal error")
        with wsc.sync.connect(uri(server)) as ws:
            ws.send("hello")
            assert ws.recv(timeout=WAIT) == "fine"


def test_connect_failures():
    with pytest.raises(wsc.InvalidURI):
        wsc.sync.connect("http://example.com/")
    with pytest.raises(ConnectionRefusedError):
        wsc.sync.connect("ws://127.0.0.1:1/")
    silent = BareServer(handshake=False)  # accepts, reads the request, never answers
    try:
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            wsc.sync.connect(f"ws://127.0.0.1:{silent.port}/", open_timeout=0.3)
        assert time.monotonic() - start < 2
    finally:
        silent.close()
    with wsc.sync.serve(echo, "127.0.0.1", 0, path="/only") as server:
        with pytest.raises(wsc.InvalidStatus) as e:
            wsc.sync.connect(uri(server, "/elsewhere"))
        assert 400 <= e.value.status < 500
        with wsc.sync.connect(uri(server, "/only")) as ws:
            ws.send("ok")
            assert ws.recv(timeout=WAIT) == "ok"


def test_serving_on_a_port_in_use_fails_cleanly():
    with wsc.sync.serve(echo, "127.0.0.1", 0) as server:
        with pytest.raises((OSError, wsc.WscError)):
            wsc.sync.serve(echo, "127.0.0.1", server.port)
        with wsc.sync.connect(uri(server)) as ws:
            ws.send("the first one still works")
            assert ws.recv(timeout=WAIT) == "the first one still works"


def test_flow_control_with_a_small_max_queue():
    n = 300

    def handler(ws):
        for i in range(n):
            ws.send(f"{i:04d}" + "p" * 1000)
        ws.recv(timeout=WAIT)

    with wsc.sync.serve(handler, "127.0.0.1", 0) as server:
        with wsc.sync.connect(uri(server), max_queue=4) as ws:
            time.sleep(0.2)  # the queue fills and reading pauses
            assert len(ws._messages) < 100  # not all 300: reading paused
            got = [ws.recv(timeout=WAIT)[:4] for _ in range(n)]
            assert got == [f"{i:04d}" for i in range(n)]
            ws.send("done")


def test_send_waits_over_write_limit_and_wakes_when_the_connection_ends():
    bare = BareServer(read=False)  # never reads: the client's buffers fill up
    try:
        ws = wsc.sync.connect(f"ws://127.0.0.1:{bare.port}/", write_limit=1024, close_timeout=0.5)
        sent = []

        def sender():
            chunk = b"x" * (1 << 20)
            for _ in range(256):
                ws.send(chunk)
                sent.append(1)

        fut = run_in_thread(sender)
        assert wait_until(lambda: len(sent) > 0 or fut.done(), 2)
        before = -1
        while len(sent) != before:  # until send() stays blocked
            before = len(sent)
            time.sleep(0.3)
        assert not fut.done(), "256 MiB went to a peer that reads nothing"
        ws.terminate()
        with pytest.raises(wsc.ConnectionClosedError):
            fut.result(timeout=WAIT)
        assert ws.wait_closed(WAIT)
    finally:
        bare.close()


# ---- fragments --------------------------------------------------------------------------------

def test_an_iterable_is_sent_as_fragments_of_one_message():
    bare = BareServer()
    try:
        with wsc.sync.connect(f"ws://127.0.0.1:{bare.port}/", compression=None) as ws:
            ws.send(["ab", "cd", "ef"])
            assert [bare.next_frame() for _ in range(3)] == [(0, 1, b"ab"), (0, 0, b"cd"), (1, 0, b"ef")]
            ws.send(iter([b"\x01", bytearray(b"\x02")]))
            assert [bare.next_frame() for _ in range(2)] == [(0, 2, b"\x01"), (1, 0, b"\x02")]
            ws.send(x for x in ["only"])
            assert bare.next_frame() == (1, 1, b"only")
            ws.send([])  # nothing at all
            ws.send("after")
            assert bare.next_frame() == (1, 1, b"after")
            ws.terminate()
            assert ws.wait_closed(WAIT)
    finally:
        bare.close()


def test_fragments_are_reassembled_and_a_bad_iterable_fails_the_message():
    with wsc.sync.serve(echo, "127.0.0.1", 0) as server:
        with wsc.sync.connect(uri(server)) as ws:
            ws.send(["frag", "ment", "ed ✓"])
            assert ws.recv(timeout=WAIT) == "fragmented ✓"
            ws.send([b"\x00" * 100000, b"\x01" * 100000])
            assert ws.recv(timeout=WAIT) == b"\x00" * 100000 + b"\x01" * 100000
            with pytest.raises(TypeError):
                ws.send([1, 2])  # nothing was sent yet: the connection stays open
            ws.send("ok")
            assert ws.recv(timeout=WAIT) == "ok"
            with pytest.raises(TypeError):
                ws.send(["text", b"bytes"])  # found out before the first fragment went
            ws.send("still ok")
            assert ws.recv(timeout=WAIT) == "still ok"
            with pytest.raises(TypeError):
                ws.send(["a", "b", b"c"])  # "a" went: a message begun can't be ended, so 1011
            with pytest.raises(wsc.ConnectionClosedError) as e:
                ws.recv(timeout=WAIT)
            assert (e.value.rcvd_code, e.value.rcvd_reason) == (1011, "error in fragmented message")


# ---- ping ---------------------------------------------------------------------------------

def test_ping_returns_a_future_of_the_latency():
    with wsc.sync.serve(echo, "127.0.0.1", 0) as server, wsc.sync.connect(uri(server)) as ws:
        fut = ws.ping()
        assert isinstance(fut, concurrent.futures.Future)
        latency = fut.result(timeout=WAIT)
        assert 0 <= latency < 1
        assert ws.latency == latency
        futs = [ws.ping(f"p{i}") for i in range(10)] + [ws.ping(b"bin")]
        assert all(0 <= f.result(timeout=WAIT) < 1 for f in futs)


def test_a_ping_without_pong_fails_when_the_connection_ends():
    bare = BareServer()  # answers no ping
    try:
        ws = wsc.sync.connect(f"ws://127.0.0.1:{bare.port}/", close_timeout=0.3)
        fut = ws.ping("hello")
        assert bare.next_frame() == (1, 0x9, b"hello")
        with pytest.raises(RuntimeError):
            ws.ping("hello")  # the same data is awaited already
        ws.pong("unsolicited")  # a heartbeat
        assert bare.next_frame() == (1, 0xA, b"unsolicited")
        with pytest.raises(concurrent.futures.TimeoutError):
            fut.result(timeout=0.1)
        ws.close()  # no close frame comes back: closed after close_timeout
        assert ws.state == 3
        with pytest.raises(wsc.ConnectionClosed):
            fut.result(timeout=WAIT)
    finally:
        bare.close()


# ---- servers ------------------------------------------------------------------------------

def test_serve_forever_returns_after_shutdown_from_another_thread():
    server = wsc.sync.serve(echo, "127.0.0.1", 0)
    forever = run_in_thread(server.serve_forever)
    ws = wsc.sync.connect(uri(server))
    ws.send("hi")
    assert ws.recv(timeout=WAIT) == "hi"
    time.sleep(0.05)
    assert not forever.done()
    server.shutdown()
    assert forever.result(timeout=WAIT) is None
    with pytest.raises(wsc.ConnectionClosedOK) as e:  # going away
        ws.recv(timeout=WAIT)
    assert e.value.rcvd_code == 1001
    assert ws.wait_closed(WAIT)
    with pytest.raises(ConnectionRefusedError):
        wsc.sync.connect(uri(server))
    assert server.broadcast("nobody") == 0
    server.shutdown()  # again: nothing to do


def test_a_handler_can_shut_its_server_down():
    def handler(ws):
        if ws.recv(timeout=WAIT) == "stop":
            server.shutdown()

    server = wsc.sync.serve(handler, "127.0.0.1", 0)
    forever = run_in_thread(server.serve_forever)
    ws = wsc.sync.connect(uri(server))
    ws.send("stop")
    assert forever.result(timeout=WAIT) is None
    assert ws.wait_closed(WAIT)
    assert ws.close_code == 1001


def test_shutdown_can_leave_the_connections_open():
    with wsc.sync.serve(echo, "127.0.0.1", 0) as server:
        ws = wsc.sync.connect(uri(server))
        stopping = run_in_thread(server.shutdown, False, WAIT)
        time.sleep(0.2)
        with pytest.raises(ConnectionRefusedError):  # no longer listening
            wsc.sync.connect(uri(server))
        ws.send("still here")
        assert ws.recv(timeout=WAIT) == "still here"
        assert not stopping.done()  # it waits for the connection
        ws.close()
        stopping.result(timeout=WAIT)


def test_with_blocks_close_the_connections_and_the_server():
    closed = queue.Queue()

    def handler(ws):
        try:
            ws.recv(timeout=WAIT)
        except wsc.ConnectionClosed as e:
            closed.put(e.rcvd_code)

    with wsc.sync.serve(handler, "127.0.0.1", 0) as server:
        with wsc.sync.connect(uri(server)) as first:
            pass
        assert first.state == 3 and first.close_code == 1000
        assert closed.get(timeout=WAIT) == 1000
        second = wsc.sync.connect(uri(server))
    # leaving the server's block closed the open connection with 1001 and waited for its handler
    assert closed.get_nowait() == 1001
    assert second.wait_closed(WAIT) and second.close_code == 1001

    with pytest.raises(ZeroDivisionError):
        with wsc.sync.serve(echo, "127.0.0.1", 0) as server, wsc.sync.connect(uri(server)) as ws:
            1 / 0
    assert ws.state == 3 and server._closed.is_set()


def test_each_handler_runs_in_a_thread_of_its_own():
    entered = threading.Barrier(3, timeout=WAIT)
    names = queue.Queue()

    def handler(ws):
        names.put(threading.current_thread())
        entered.wait()  # all three handlers block at once
        ws.send(ws.recv(timeout=WAIT))

    with wsc.sync.serve(handler, "127.0.0.1", 0) as server:
        clients = [wsc.sync.connect(uri(server)) for _ in range(3)]
        threads = {names.get(timeout=WAIT) for _ in range(3)}
        assert len(threads) == 3 and threading.main_thread() not in threads
        assert all(t.name == "wsc-sync-handler" for t in threads)
        for i, ws in enumerate(clients):
            ws.send(str(i))
        assert [ws.recv(timeout=WAIT) for ws in clients] == ["0", "1", "2"]
        for ws in clients:
            ws.close()


def test_a_handler_may_connect_elsewhere_through_the_same_loop():
    with wsc.sync.serve(echo, "127.0.0.1", 0) as backend:
        def proxy(ws):
            with wsc.sync.connect(uri(backend)) as upstream:
                for message in ws:
                    upstream.send(message)
                    ws.send("via proxy: " + upstream.recv(timeout=WAIT))

        with wsc.sync.serve(proxy, "127.0.0.1", 0) as front, wsc.sync.connect(uri(front)) as ws:
            for m in ["a", "b", "c"]:
                ws.send(m)
                assert ws.recv(timeout=WAIT) == "via proxy: " + m


# ---- the upgrade request ------------------------------------------------------------------

def test_process_request_runs_in_a_thread_and_may_block():
    release = threading.Event()
    seen = queue.Queue()

    def process_request(path, headers):
        seen.put((path, headers.get("X-Test"), threading.current_thread()))
        if path == "/slow":
            assert release.wait(WAIT)
        return None

    with wsc.sync.serve(echo, "127.0.0.1", 0, process_request=process_request) as server:
        slow = run_in_thread(wsc.sync.connect, uri(server, "/slow"))
        path, _, thread = seen.get(timeout=WAIT)
        assert path == "/slow"
        assert thread is not threading.main_thread() and thread.name != "wsc-sync-loop"
        # while that request waits for its answer, others are served
        with wsc.sync.connect(uri(server, "/fast"), additional_headers={"X-Test": "yes"}) as ws:
            assert seen.get(timeout=WAIT)[:2] == ("/fast", "yes")
            ws.send("served")
            assert ws.recv(timeout=WAIT) == "served"
        assert not slow.done()
        release.set()
        with slow.result(timeout=WAIT) as ws:
            ws.send("slow but served")
            assert ws.recv(timeout=WAIT) == "slow but served"
            assert [c.path for c in server.connections] == ["/slow"]


def test_process_request_rejects_with_status_headers_and_body():
    def process_request(path, headers):
        if path == "/forbidden":
            return 403, [("X-Why", "no"), ("X-Why", "really")], b"go away"
        if path == "/who":
            return HTTPStatus.UNAUTHORIZED, {"WWW-Authenticate": 'Basic realm="x"'}, "who are you?\n"
        if path == "/broken":
            raise ValueError("a bug in the hook")
        return None

    with wsc.sync.serve(echo, "127.0.0.1", 0, process_request=process_request) as server:
        with pytest.raises(wsc.InvalidStatus) as e:
            wsc.sync.connect(uri(server, "/forbidden"))
        assert e.value.status == 403
        assert e.value.headers.get_all("x-why") == ["no", "really"]
        assert e.value.body == b"go away"
        with pytest.raises(wsc.InvalidStatus) as e:
            wsc.sync.connect(uri(server, "/who"))
        assert (e.value.status, e.value.body) == (401, b"who are you?\n")
        assert e.value.headers["www-authenticate"] == 'Basic realm="x"'
        with pytest.raises(wsc.InvalidStatus) as e:
            wsc.sync.connect(uri(server, "/broken"))
        assert e.value.status == 500
        assert isinstance(e.value, wsc.InvalidHandshake)
        with wsc.sync.connect(uri(server, "/fine")) as ws:
            ws.send("in")
            assert ws.recv(timeout=WAIT) == "in"
        assert not server.connections or wait_until(lambda: not server.connections)


def test_a_client_that_leaves_while_process_request_runs():
    release = threading.Event()
    asked = threading.Event()

    def process_request(path, headers):
        asked.set()
        release.wait(WAIT)

    with wsc.sync.serve(echo, "127.0.0.1", 0, process_request=process_request) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as s:
            s.sendall(UPGRADE % b"/")
            assert asked.wait(WAIT)
        time.sleep(0.1)  # the server sees the client gone
        release.set()  # the decision finds no request
        asked.clear()
        time.sleep(0.1)
        with wsc.sync.connect(uri(server)) as ws:
            ws.send("the server still works")
            assert ws.recv(timeout=WAIT) == "the server still works"
        assert not server.connections or wait_until(lambda: not server.connections)


def test_a_late_answer_for_a_client_that_left_goes_to_no_other_request():
    # The first client leaves while its process_request runs; the next request may then reuse
    # the first one's memory, and must still get its own answer, not the first one's.
    gates = {"/first": threading.Event(), "/second": threading.Event()}
    asked = {"/first": threading.Event(), "/second": threading.Event()}

    def process_request(path, headers):
        asked[path].set()
        gates[path].wait(WAIT)
        return (403, [], b"the first request's answer") if path == "/first" else None

    with wsc.sync.serve(echo, "127.0.0.1", 0, process_request=process_request) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as first:
            first.sendall(UPGRADE % b"/first")
            assert asked["/first"].wait(WAIT)
        time.sleep(0.1)  # the server sees it gone
        second = run_in_thread(wsc.sync.connect, uri(server, "/second"))
        assert asked["/second"].wait(WAIT)
        gates["/first"].set()  # the first answer comes while the second request waits
        time.sleep(0.1)
        gates["/second"].set()
        with second.result(timeout=WAIT) as ws:
            ws.send("my own answer")
            assert ws.recv(timeout=WAIT) == "my own answer"


def test_connections_arriving_as_serve_returns_are_handled(tmp_path):
    # Clients knock on the Unix socket before it exists; the first ones get in as soon as the
    # server listens, maybe before serve() has returned to its caller: each must be handled.
    path = str(tmp_path / "race.sock")

    def handler(ws):
        ws.send("hi")

    def knock(stop):
        while not stop.is_set():
            with socket.socket(socket.AF_UNIX) as c:
                try:
                    c.connect(path)
                except OSError:
                    continue
                c.sendall(UPGRADE % b"/")
                c.settimeout(1)
                data = b""
                try:
                    while b"\x81\x02hi" not in data:
                        more = c.recv(4096)
                        if not more:
                            break
                        data += more
                except socket.timeout:
                    pass
                return data

    deadline = time.monotonic() + 1.5
    rounds = 0
    while time.monotonic() < deadline:
        rounds += 1
        stop = threading.Event()
        knockers = [run_in_thread(knock, stop) for _ in range(2)]
        server = wsc.sync.unix_serve(handler, path)
        try:
            answers = [k.result(timeout=WAIT) for k in knockers]
        finally:
            stop.set()
            server.shutdown(timeout=WAIT)
        for data in answers:
            assert data.startswith(b"HTTP/1.1 101") and b"\x81\x02hi" in data, (rounds, data[:80])


def test_origins():
    with wsc.sync.serve(echo, "127.0.0.1", 0, origins=["https://good.example", None]) as server:
        with wsc.sync.connect(uri(server), origin="https://good.example"):
            assert [c.request_headers["Origin"] for c in server.connections] == ["https://good.example"]
        with wsc.sync.connect(uri(server)):  # None admits requests without an Origin
            pass
        with pytest.raises(wsc.InvalidStatus) as e:
            wsc.sync.connect(uri(server), origin="https://evil.example")
        assert e.value.status == 403
    with wsc.sync.serve(echo, "127.0.0.1", 0, origins=["https://good.example"]) as server:
        with pytest.raises(wsc.InvalidStatus) as e:
            wsc.sync.connect(uri(server))
        assert e.value.status == 403


def test_subprotocols():
    chosen = queue.Queue()

    def handler(ws):
        chosen.put(ws.subprotocol)

    with wsc.sync.serve(handler, "127.0.0.1", 0, subprotocols=["chat", "v2"]) as server:
        with wsc.sync.connect(uri(server), subprotocols=["v2", "other"]) as ws:
            assert ws.subprotocol == "v2"
            assert ws.response_headers["Sec-WebSocket-Protocol"] == "v2"
        assert chosen.get(timeout=WAIT) == "v2"
        with wsc.sync.connect(uri(server)) as ws:  # none asked, none chosen
            assert ws.subprotocol is None
        assert chosen.get(timeout=WAIT) is None
        # none in common: the server answers without one, which libwsc's client refuses (as ws
        # for Node does; python-websockets' client would accept it)
        with pytest.raises(wsc.InvalidHandshake, match="no subprotocol"):
            wsc.sync.connect(uri(server), subprotocols=["unknown"])
        assert chosen.get(timeout=WAIT) is None

    def last_offered(offered, available):
        return offered[-1] if offered else None

    with wsc.sync.serve(handler, "127.0.0.1", 0, subprotocols=["a"], select_subprotocol=last_offered) as server:
        with wsc.sync.connect(uri(server), subprotocols=["x", "y", "z"]) as ws:
            assert ws.subprotocol == "z"
        assert chosen.get(timeout=WAIT) == "z"


# ---- broadcast ----------------------------------------------------------------------------

def test_broadcast_from_the_server_and_to_any_connections():
    def handler(ws):
        for message in ws:
            ws.send(f"echo {message}")

    with wsc.sync.serve(handler, "127.0.0.1", 0) as server:
        clients = [wsc.sync.connect(uri(server)) for _ in range(3)]
        assert wait_until(lambda: len(server.connections) == 3)
        assert server.broadcast("to all") == 3
        assert [ws.recv(timeout=WAIT) for ws in clients] == ["to all"] * 3
        wsc.sync.broadcast(server.connections, b"\x01binary")
        assert [ws.recv(timeout=WAIT) for ws in clients] == [b"\x01binary"] * 3
        wsc.sync.broadcast(clients, "up")  # clients' connections: every handler answers
        assert [ws.recv(timeout=WAIT) for ws in clients] == ["echo up"] * 3

        clients[2].close()
        assert wait_until(lambda: len(server.connections) == 2)
        assert server.broadcast("fewer") == 2
        wsc.sync.broadcast(clients, "skips the closed one")  # no error
        assert [ws.recv(timeout=WAIT) for ws in clients[:2]] == ["fewer"] * 2
        assert [ws.recv(timeout=WAIT) for ws in clients[:2]] == ["echo skips the closed one"] * 2
        for ws in clients[:2]:
            ws.close()
    assert server.broadcast("after shutdown") == 0


def test_broadcast_skips_a_connection_in_the_middle_of_a_fragmented_message():
    middle, go = threading.Event(), threading.Event()

    def pieces():
        yield "AAA"
        yield "BBB"
        middle.set()  # "AAA" is on its way, "BBB" waits for the next piece
        go.wait(WAIT)
        yield "CCC"

    def handler(ws):
        ws.send(pieces())
        ws.recv(timeout=WAIT)

    with wsc.sync.serve(handler, "127.0.0.1", 0) as server, wsc.sync.connect(uri(server)) as ws:
        assert middle.wait(WAIT)
        assert server.broadcast("skipped by the server") == 0
        wsc.sync.broadcast(server.connections, "skipped by wsc.sync.broadcast")
        time.sleep(0.1)
        go.set()
        assert ws.recv(timeout=WAIT) == "AAABBBCCC"
        assert wait_until(lambda: server.broadcast("after it") == 1, 2)
        assert ws.recv(timeout=WAIT) == "after it"
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.1)
        ws.send("bye")


def test_broadcast_reaches_a_connection_whose_other_thread_waits_in_send():
    # As python-websockets: broadcast skips only connections that are closed or in the middle
    # of a fragmented message, not one whose buffer is over write_limit.
    bare = BareServer(read=False)
    try:
        ws = wsc.sync.connect(f"ws://127.0.0.1:{bare.port}/", write_limit=1024, compression=None)
        sent = []

        def sender():
            for _ in range(40):
                ws.send(b"x" * (256 * 1024))
                sent.append(1)

        fut = run_in_thread(sender)
        before = -1
        while len(sent) != before:  # until send() stays blocked
            before = len(sent)
            time.sleep(0.3)
        assert not fut.done()
        wsc.sync.broadcast([ws], "broadcast")
        bare.reading.set()
        fut.result(timeout=WAIT)
        ws.send("end")
        texts = []
        while not texts or texts[-1] != b"end":
            fin, opcode, payload = bare.next_frame()
            if opcode == 1:
                texts.append(payload)
        assert texts == [b"broadcast", b"end"]
        ws.terminate()
        assert ws.wait_closed(WAIT)
    finally:
        bare.close()


# ---- Unix sockets -------------------------------------------------------------------------

def test_unix_sockets(tmp_path):
    path = str(tmp_path / "wsc.sock")
    paths = queue.Queue()

    def handler(ws):
        paths.put(ws.path)
        echo(ws)

    with wsc.sync.unix_serve(handler, path) as server:
        assert os.path.exists(path)
        with wsc.sync.unix_connect(path, "ws://localhost/chat/room?id=7") as ws:
            ws.send("over a unix socket")
            assert ws.recv(timeout=WAIT) == "over a unix socket"
            ws.send(b"\x00" * 100000)
            assert ws.recv(timeout=WAIT) == b"\x00" * 100000
        assert paths.get(timeout=WAIT) == "/chat/room?id=7"
        with wsc.sync.unix_connect(path) as ws:
            ws.send("default path")
            assert ws.recv(timeout=WAIT) == "default path"
        assert paths.get(timeout=WAIT) == "/"
        assert server.broadcast("x") == 0
    with pytest.raises(OSError):
        wsc.sync.unix_connect(str(tmp_path / "nothing-here.sock"))


# ---- one connection, many threads ---------------------------------------------------------

def numbered(tid, i):
    """Message i of thread tid: text for even threads, bytes for odd ones, of varied sizes."""
    body = f"{tid}:{i}:" + chr(0x41 + tid) * ((i * 37 + tid * 101) % 3000)
    if i % 97 == 0:
        body += "L" * 100000  # now and then a large one, over write_limit
    return body if tid % 2 == 0 else body.encode()


def test_one_connection_shared_by_many_threads():
    nthreads, per_thread = 8, 500
    with wsc.sync.serve(echo, "127.0.0.1", 0) as server, wsc.sync.connect(uri(server)) as ws:
        def sender(tid):
            for i in range(per_thread):
                m = numbered(tid, i)
                if tid >= 6 and i % 5 == 0:
                    ws.send([m[:10], m[10:20], m[20:]])  # fragments must not interleave with others
                else:
                    ws.send(m)

        def receiver():
            got = {tid: [] for tid in range(nthreads)}
            for _ in range(nthreads * per_thread):
                m = ws.recv(timeout=WAIT)
                text = m if isinstance(m, str) else m.decode()
                tid, i, _ = text.split(":", 2)
                tid, i = int(tid), int(i)
                assert m == numbered(tid, i), f"message {tid}:{i} was altered"
                got[tid].append(i)
            return got

        start = time.monotonic()
        received = run_in_thread(receiver)
        senders = [run_in_thread(sender, tid) for tid in range(nthreads)]
        for s in senders:
            s.result(timeout=30)
        got = received.result(timeout=30)
        elapsed = time.monotonic() - start
        assert got == {tid: list(range(per_thread)) for tid in range(nthreads)}
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.05)
        assert elapsed < 10
    print(f"\n{nthreads} threads x {per_thread} messages echoed in {elapsed:.3f}s")


def test_several_threads_receive_and_ping_at_once():
    n = 2000

    def handler(ws):
        for i in range(n):
            ws.send(str(i))
        ws.recv(timeout=WAIT)

    with wsc.sync.serve(handler, "127.0.0.1", 0) as server, wsc.sync.connect(uri(server)) as ws:
        taken = queue.Queue()

        def receiver():
            mine = []
            while True:
                try:
                    mine.append(int(ws.recv(timeout=0.5)))
                except TimeoutError:
                    taken.put(mine)
                    return

        def pinger():
            return [ws.ping().result(timeout=WAIT) for _ in range(50)]

        workers = [run_in_thread(receiver) for _ in range(4)] + [run_in_thread(pinger) for _ in range(2)]
        for w in workers:
            w.result(timeout=15)
        parts = [taken.get_nowait() for _ in range(4)]
        assert all(p == sorted(p) for p in parts)  # each thread sees the messages in order
        assert sorted(i for p in parts for i in p) == list(range(n))  # each message exactly once
        ws.send("done")


def test_close_from_one_thread_wakes_the_others():
    with wsc.sync.serve(echo, "127.0.0.1", 0) as server:
        ws = wsc.sync.connect(uri(server))
        waiting = [run_in_thread(ws.recv, WAIT) for _ in range(3)]
        closing = [run_in_thread(ws.close) for _ in range(3)]
        for f in closing:
            assert f.result(timeout=WAIT) is None
        for f in waiting:
            with pytest.raises(wsc.ConnectionClosedOK):
                f.result(timeout=WAIT)
        assert ws.close_code == 1000


def test_a_thread_sending_while_the_connection_ends():
    # The peer is another process, so each connection is the loop thread's only one: the loop
    # ends (and is freed) right after each close, while another thread is still sending. (A
    # send that called into the freed loop crashed the process within a few rounds.)
    def send_until_closed(ws):
        while True:
            ws.send("x" * 10)

    with sink_process() as port:
        deadline = time.monotonic() + 2
        rounds = 0
        while time.monotonic() < deadline:
            rounds += 1
            ws = wsc.sync.connect(f"ws://127.0.0.1:{port}/", compression=None)
            senders = [run_in_thread(send_until_closed, ws) for _ in range(1 if rounds % 4 else 3)]
            time.sleep(0.002)
            if rounds % 4 != 3:
                ws.terminate()
            else:
                ws.close()
            for s in senders:
                assert isinstance(s.exception(timeout=WAIT), wsc.ConnectionClosed)
            assert ws.wait_closed(WAIT)
        assert rounds > 10


# ---- python-websockets 10.4 -----------------------------------------------------------------

def test_our_client_against_a_python_websockets_server():
    received = queue.Queue()

    async def handler(ws, path=None):
        received.put(("path", ws.path, ws.request_headers.get("X-Hello")))
        async for m in ws:
            if m == "close please":
                await ws.close(4002, "as you wish")
                return
            received.put(m)
            await ws.send(m)

    with websockets_server(handler, subprotocols=["chat"]) as port:
        with wsc.sync.connect(f"ws://127.0.0.1:{port}/ws?q=1", subprotocols=["chat"],
                              additional_headers=[("X-Hello", "there")]) as ws:
            assert ws.subprotocol == "chat"
            assert received.get(timeout=WAIT) == ("path", "/ws?q=1", "there")
            for m in ["text ✓", b"\x00bin", "c" * 200000, os.urandom(100000)]:
                ws.send(m)
                assert ws.recv(timeout=WAIT) == m
            ws.send(["frag", "mented"])
            assert ws.recv(timeout=WAIT) == "fragmented"
            assert [received.get(timeout=WAIT) for _ in range(5)][-1] == "fragmented"
            assert 0 <= ws.ping().result(timeout=WAIT) < 1
            ws.send("close please")
            with pytest.raises(wsc.ConnectionClosedError) as e:
                ws.recv(timeout=WAIT)
            assert (e.value.rcvd_code, e.value.rcvd_reason) == (4002, "as you wish")

        # the other way: our client closes, the python-websockets handler sees the code
        with wsc.sync.connect(f"ws://127.0.0.1:{port}/") as ws:
            received.get(timeout=WAIT)
            ws.send("x")
            assert ws.recv(timeout=WAIT) == "x"
        assert received.get(timeout=WAIT) == "x"


def test_python_websockets_rejection_is_invalid_status():
    async def handler(ws, path=None):
        await ws.send("unreachable")

    async def process_request(path, headers):
        return HTTPStatus.FORBIDDEN, [("X-Reason", "no")], b"denied\n"

    with websockets_server(handler, process_request=process_request) as port:
        with pytest.raises(wsc.InvalidStatus) as e:
            wsc.sync.connect(f"ws://127.0.0.1:{port}/")
        assert (e.value.status, e.value.body) == (403, b"denied\n")
        assert e.value.headers["x-reason"] == "no"


def test_python_websockets_client_against_our_server():
    seen = queue.Queue()

    def handler(ws):
        seen.put((ws.path, ws.subprotocol, ws.request_headers.get("User-Agent", "")))
        try:
            for m in ws:
                ws.send(m)
        except wsc.ConnectionClosed as e:
            seen.put((e.rcvd_code, e.rcvd_reason))
            raise

    async def client(port):
        async with websockets.connect(f"ws://127.0.0.1:{port}/p?x=2", subprotocols=["v1"]) as ws:
            assert ws.subprotocol == "v1"
            for m in ["text", b"bin", "z" * 300000]:
                await ws.send(m)
                assert await ws.recv() == m
            await ws.send(["frag", "ments"])
            assert await ws.recv() == "fragments"
            pong = await ws.ping()
            await asyncio.wait_for(pong, WAIT)
            await ws.close(4003, "done here")
        assert ws.close_code == 4003

    with wsc.sync.serve(handler, "127.0.0.1", 0, subprotocols=["v1"]) as server:
        run_async(client(server.port))
        path, proto, agent = seen.get(timeout=WAIT)
        assert (path, proto) == ("/p?x=2", "v1") and "websockets" in agent.lower()
        assert seen.get(timeout=WAIT) == (4003, "done here")


def test_python_websockets_client_sees_our_closes_and_rejections():
    def handler(ws):
        m = ws.recv(timeout=WAIT)
        if m == "fail":
            raise RuntimeError("handler bug")
        ws.close(4004, "server's choice")

    def process_request(path, headers):
        return (404, [], b"not here") if path == "/missing" else None

    async def client(port):
        async with websockets.connect(f"ws://127.0.0.1:{port}/") as ws:
            await ws.send("fail")
            with pytest.raises(websockets.ConnectionClosedError) as e:
                await ws.recv()
            assert (e.value.code, e.value.reason) == (1011, "internal error")
        async with websockets.connect(f"ws://127.0.0.1:{port}/") as ws:
            await ws.send("close")
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
            assert (ws.close_code, ws.close_reason) == (4004, "server's choice")
        with pytest.raises(websockets.InvalidStatusCode) as e:
            await websockets.connect(f"ws://127.0.0.1:{port}/missing")
        assert e.value.status_code == 404

    with wsc.sync.serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
        run_async(client(server.port))
        with pytest.raises(websockets.ConnectionClosedOK):  # shutdown: 1001, going away
            async def going_away():
                async with websockets.connect(f"ws://127.0.0.1:{server.port}/") as ws:
                    stopper = asyncio.get_running_loop().run_in_executor(None, server.shutdown)
                    try:
                        await ws.recv()
                    finally:
                        await stopper
                        assert ws.close_code == 1001
            run_async(going_away())


# ---- the loop thread ends ----------------------------------------------------------------

def test_no_thread_or_descriptor_is_left_once_everything_is_closed(tmp_path):
    threads_before = set(threading.enumerate())
    fds_before = fd_count()
    with wsc.sync.serve(echo, "127.0.0.1", 0, process_request=lambda p, h: None) as server:
        first_loop = loop_threads()
        assert len(first_loop) == 1
        clients = [wsc.sync.connect(uri(server)) for _ in range(20)]
        for i, ws in enumerate(clients):
            ws.send(str(i))
            assert ws.recv(timeout=WAIT) == str(i)
        with pytest.raises(ConnectionRefusedError):
            wsc.sync.connect("ws://127.0.0.1:1/")
        with wsc.sync.unix_serve(echo, str(tmp_path / "s.sock")) as userver:
            with wsc.sync.unix_connect(str(tmp_path / "s.sock")) as u:
                u.send("u")
                assert u.recv(timeout=WAIT) == "u"
        assert loop_threads() == first_loop  # one loop thread for everything
        for ws in clients[:10]:
            ws.close()
    assert all(ws.state == 3 for ws in clients)
    assert userver._closed.is_set()
    start = time.monotonic()
    assert wait_until(lambda: set(threading.enumerate()) <= threads_before, 2), \
        [t.name for t in set(threading.enumerate()) - threads_before]
    ended = time.monotonic() - start
    assert wait_until(lambda: fd_count() <= fds_before, 2), fd_count() - fds_before
    assert not first_loop[0].is_alive()
    assert wsc.sync._current is None or wsc.sync._current.dead

    # a failed connection alone starts the loop thread, which ends again
    with pytest.raises(ConnectionRefusedError):
        wsc.sync.connect("ws://127.0.0.1:1/")
    assert wait_until(lambda: not sync_threads(), 2)
    # and the next connection gets a new one
    with wsc.sync.serve(echo, "127.0.0.1", 0) as server, wsc.sync.connect(uri(server)) as ws:
        ws.send("again")
        assert ws.recv(timeout=WAIT) == "again"
        assert len(loop_threads()) == 1 and loop_threads()[0] is not first_loop[0]
    assert wait_until(lambda: not sync_threads(), 2)
    assert fd_count() <= fds_before
    print(f"\nthe loop thread ended {ended * 1000:.1f} ms after the last close")
