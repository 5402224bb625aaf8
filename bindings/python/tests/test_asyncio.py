"""The asyncio API against itself and against python-websockets (both directions), on real sockets."""

import asyncio
import os
import threading

import pytest
import websockets

import wsc


def run(coro, timeout=10):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def echo(ws):
    async for message in ws:
        await ws.send(message)


def test_messages_both_types_and_sizes_with_our_client_and_server():
    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0) as server:
            async with wsc.connect(f"ws://127.0.0.1:{server.port}/path") as ws:
                for m in ["", "héllo", "x" * 70000, b"", b"\x00\xff", os.urandom(300000)]:
                    await ws.send(m)
                    got = await ws.recv()
                    assert got == m and type(got) is type(m)
            assert ws.close_code == 1000
            assert ws.state == 3
    run(main())


def test_our_server_with_python_websockets_client():
    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, compression="deflate") as server:
            async with websockets.connect(f"ws://127.0.0.1:{server.port}") as ws:
                assert ws.response_headers.get("Sec-WebSocket-Extensions", "").startswith("permessage-deflate")
                for m in ["text", b"bin", "z" * 100000]:
                    await ws.send(m)
                    assert await ws.recv() == m
    run(main())


def test_our_client_with_python_websockets_server():
    async def handler(ws, path=None):
        async for m in ws:
            await ws.send(m)

    async def main():
        async with websockets.serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            async with wsc.connect(f"ws://127.0.0.1:{port}") as ws:
                for m in ["text", b"bin", "c" * 100000]:
                    await ws.send(m)
                    assert await ws.recv() == m
                latency = await (await ws.ping())
                assert latency >= 0 and ws.latency == latency
            assert ws.close_code == 1000
    run(main())


def test_close_codes_and_reasons_reach_the_other_side():
    seen = {}

    async def handler(ws):
        with pytest.raises(wsc.ConnectionClosedError) as e:
            await ws.recv()
        seen["server"] = (e.value.rcvd_code, e.value.rcvd_reason)

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0) as server:
            ws = await wsc.connect(f"ws://127.0.0.1:{server.port}")
            await ws.close(4001, "bye now")
            assert (ws.close_code, ws.close_reason) == (4001, "bye now")
            with pytest.raises(wsc.ConnectionClosedError):
                await ws.send("late")
            await asyncio.sleep(0.05)
    run(main())
    assert seen["server"] == (4001, "bye now")


def test_a_handler_that_raises_closes_with_1011():
    async def handler(ws):
        raise RuntimeError("boom")

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0) as server:
            ws = await wsc.connect(f"ws://127.0.0.1:{server.port}")
            with pytest.raises(wsc.ConnectionClosedError) as e:
                await ws.recv()
            assert e.value.rcvd_code == 1011
    run(main())


def test_subprotocols_and_process_request():
    def process_request(path, headers):
        if path == "/forbidden":
            return 403, [("X-Why", "no")], b"go away"
        return None

    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, subprotocols=["chat", "v2"],
                             process_request=process_request) as server:
            async with wsc.connect(f"ws://127.0.0.1:{server.port}", subprotocols=["v2", "other"]) as ws:
                assert ws.subprotocol == "v2"
            with pytest.raises(wsc.InvalidStatus) as e:
                await wsc.connect(f"ws://127.0.0.1:{server.port}/forbidden")
            assert e.value.status == 403
            assert e.value.headers["x-why"] == "no"
            assert e.value.body == b"go away"
    run(main())


def test_bad_uri_and_refused_connection():
    async def main():
        with pytest.raises(wsc.InvalidURI):
            await wsc.connect("http://example.com/")
        with pytest.raises(ConnectionRefusedError):  # an OSError, as python-websockets
            await wsc.connect("ws://127.0.0.1:1/")
    run(main())


def test_a_message_over_max_size_closes_with_1009():
    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, max_size=1000) as server:
            async with wsc.connect(f"ws://127.0.0.1:{server.port}") as ws:
                await ws.send(b"x" * 2000)
                with pytest.raises(wsc.ConnectionClosedError) as e:
                    await ws.recv()
                assert e.value.rcvd_code == 1009
    run(main())


def test_many_connections_at_once_and_no_thread_or_fd_left():
    threads = threading.active_count()
    fds = len(os.listdir("/proc/self/fd"))

    async def one(port, i):
        async with wsc.connect(f"ws://127.0.0.1:{port}") as ws:
            await ws.send(str(i))
            assert await ws.recv() == str(i)

    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0) as server:
            await asyncio.gather(*(one(server.port, i) for i in range(200)))
            assert threading.active_count() == threads, "no thread was started"
    run(main(), 30)
    # The wsc loop is freed once nothing is open on it: every descriptor is back.
    assert len(os.listdir("/proc/self/fd")) == fds
