"""permessage-deflate (RFC 7692): negotiation, parameters, interop with python-websockets, and
limits on what a compressed message may inflate to. Real sockets throughout; where it matters
whether bytes were really compressed, a TCP relay between the two sides counts them."""

import asyncio
import os

import pytest
import websockets

import wsc

MiB = 2**20
# python-websockets 10 applies max_size to a compressed frame's length too, and 1 MiB of random
# data grows a little when deflated (by either side): its peers get some room.
PY_MAX_SIZE = 2 * MiB


def run(coro, timeout=10):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def open_fds():
    return len(os.listdir("/proc/self/fd"))


async def echo(ws, path=None):  # also python-websockets 10's handler
    async for message in ws:
        await ws.send(message)


def py_port(server):
    return server.sockets[0].getsockname()[1]


def messages():
    """Text and binary, small and 1 MiB (max_size's default: the largest allowed), compressible
    and random."""
    return [
        "héllo", b"\x00\x01\x02\xff", "",
        "wsc " * (MiB // 4),                   # 1 MiB of compressible text
        bytes(range(256)) * (MiB // 256),      # 1 MiB of compressible binary
        os.urandom(MiB // 2).hex(),            # 1 MiB of random text
        os.urandom(MiB),                       # 1 MiB of random binary
        os.urandom(3000),                      # random, above the default threshold
    ]


async def check_roundtrips(ws):
    for m in messages():
        await ws.send(m)
        got = await ws.recv()
        assert type(got) is type(m) and len(got) == len(m) and got == m


class Relay:
    """A TCP relay to a port that counts the bytes going each way (up: client to server)."""

    def __init__(self, port):
        self.port = port
        self.up = self.down = 0

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.listen_port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()

    async def _client(self, reader, writer):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        await asyncio.gather(self._pipe(reader, up_writer, "up"), self._pipe(up_reader, writer, "down"))

    async def _pipe(self, reader, writer, way):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                setattr(self, way, getattr(self, way) + len(data))
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


# ---- wsc on both sides --------------------------------------------------------------------------

def test_deflate_on_both_sides_is_negotiated_and_messages_arrive_intact():
    seen = {}

    async def handler(ws):
        seen["extensions"] = ws.extensions
        await echo(ws)

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0, compression="deflate") as server:
            async with wsc.connect(f"ws://127.0.0.1:{server.port}/", compression="deflate") as ws:
                assert ws.extensions.startswith("permessage-deflate")
                assert ws.response_headers["Sec-WebSocket-Extensions"] == ws.extensions
                await check_roundtrips(ws)
            assert ws.close_code == 1000
    run(main(), 30)
    assert seen["extensions"].startswith("permessage-deflate")


def test_compressible_messages_are_compressed_on_the_wire_both_ways():
    big = "compress me " * (MiB // 12)

    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, compression="deflate") as server:
            async with Relay(server.port) as relay:
                async with wsc.connect(f"ws://127.0.0.1:{relay.listen_port}/") as ws:  # the client's default
                    await ws.send(big)
                    assert await ws.recv() == big
                assert relay.up < 64 * 1024 and relay.down < 64 * 1024, (relay.up, relay.down)
            async with Relay(server.port) as relay:  # control: a client that does not offer it
                async with wsc.connect(f"ws://127.0.0.1:{relay.listen_port}/", compression=None) as ws:
                    assert ws.extensions == ""
                    await ws.send(big)
                    assert await ws.recv() == big
                assert relay.up > len(big) and relay.down > len(big)
    run(main())


def test_a_server_does_not_negotiate_compression_unless_told_to():
    offers = []

    async def handler(ws):
        offers.append(ws.request_headers.get("Sec-WebSocket-Extensions", ""))
        await ws.send(ws.extensions)
        await echo(ws)

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0) as server:  # compression off: the secure default
            uri = f"ws://127.0.0.1:{server.port}/"
            async with wsc.connect(uri) as ws:
                assert await ws.recv() == ""
                assert ws.extensions == ""
                assert "Sec-WebSocket-Extensions" not in ws.response_headers
                await check_roundtrips(ws)
            async with websockets.connect(uri) as ws:
                assert await ws.recv() == ""
                assert ws.response_headers.get("Sec-WebSocket-Extensions") is None
                big = "z" * 500_000
                await ws.send(big)
                assert await ws.recv() == big
        async with wsc.serve(handler, "127.0.0.1", 0, compression=None) as server:
            async with wsc.connect(f"ws://127.0.0.1:{server.port}/") as ws:
                assert await ws.recv() == ""
    run(main(), 30)
    # Both clients did offer it: the server declined.
    assert len(offers) == 3 and all(o.startswith("permessage-deflate") for o in offers)


def test_a_client_with_compression_none_does_not_offer_it():
    offers = []

    async def handler(ws):
        offers.append(ws.request_headers.get("Sec-WebSocket-Extensions"))
        await echo(ws)

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0, compression="deflate") as server:
            async with wsc.connect(f"ws://127.0.0.1:{server.port}/", compression=None) as ws:
                assert ws.extensions == ""
                await ws.send("x" * 5000)
                assert await ws.recv() == "x" * 5000
    run(main())
    assert offers == [None]


# ---- parameters ---------------------------------------------------------------------------------

def test_server_parameters_show_in_the_negotiated_extension():
    params = dict(server_max_window_bits=11, client_max_window_bits=12, server_no_context_takeover=True,
                  client_no_context_takeover=True, level=9, threshold=0)
    agreed = ("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
              "server_max_window_bits=11; client_max_window_bits=12")
    seen = []

    async def handler(ws):
        seen.append(ws.extensions)
        await echo(ws)

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0, compression=params) as server:
            uri = f"ws://127.0.0.1:{server.port}/"
            async with wsc.connect(uri) as ws:
                assert ws.extensions == agreed
                await check_roundtrips(ws)
            # python-websockets' client accepts the same answer and inflates what we compressed
            # with an 11-bit window.
            async with websockets.connect(uri, max_size=PY_MAX_SIZE) as ws:
                assert ws.response_headers["Sec-WebSocket-Extensions"] == agreed
                await check_roundtrips(ws)
    run(main(), 30)
    assert seen == [agreed, agreed]


def test_client_parameters_are_offered_and_agreed():
    params = dict(server_max_window_bits=10, client_max_window_bits=9, server_no_context_takeover=True,
                  client_no_context_takeover=True)
    offers = []

    async def handler(ws):
        offers.append(ws.request_headers["Sec-WebSocket-Extensions"])
        await echo(ws)

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0, compression="deflate") as server:
            async with wsc.connect(f"ws://127.0.0.1:{server.port}/", compression=params) as ws:
                assert ws.extensions == ("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                                         "server_max_window_bits=10; client_max_window_bits=9")
                await check_roundtrips(ws)
    run(main(), 30)
    assert offers == ["permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                      "server_max_window_bits=10; client_max_window_bits=9"]


def test_threshold_and_level_decide_what_is_compressed():
    big = "abcdefgh" * (MiB // 8)

    async def up_bytes(port, compression, message):
        async with Relay(port) as relay:
            async with wsc.connect(f"ws://127.0.0.1:{relay.listen_port}/", compression=compression) as ws:
                assert ws.extensions.startswith("permessage-deflate")
                await ws.send(message)
                assert await ws.recv() == message
        return relay.up

    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, compression="deflate") as server:
            assert await up_bytes(server.port, "deflate", big) < 64 * 1024
            assert await up_bytes(server.port, {"threshold": 2 * MiB}, big) > MiB  # below it: sent as is
            assert await up_bytes(server.port, {"level": 0}, big) > MiB            # stored blocks
            assert await up_bytes(server.port, {"level": 1}, big) < 64 * 1024
            small = "tiny " * 100  # 500 bytes: under the default threshold (1024), over 0
            assert await up_bytes(server.port, "deflate", small) > 500
            assert await up_bytes(server.port, {"threshold": 0}, small) < 400
    run(main())


def test_context_takeover_and_no_context_takeover():
    # The same 12 KiB message twice: with context takeover the second is mostly a back-reference
    # into the first; with client_no_context_takeover each is compressed on its own.
    message = os.urandom(6 * 1024).hex()

    async def second_message_bytes(port, compression):
        async with Relay(port) as relay:
            async with wsc.connect(f"ws://127.0.0.1:{relay.listen_port}/", compression=compression) as ws:
                sizes = []
                for _ in range(2):
                    before = relay.up
                    await ws.send(message)
                    assert await ws.recv() == message  # the server read it: every byte has crossed
                    sizes.append(relay.up - before)
        return sizes

    async def main():
        async with wsc.serve(echo, "127.0.0.1", 0, compression="deflate") as server:
            first, second = await second_message_bytes(server.port, "deflate")
            assert first > 6 * 1024 and second < 200, (first, second)
            first, second = await second_message_bytes(server.port, {"client_no_context_takeover": True})
            assert first > 6 * 1024 and second > 6 * 1024, (first, second)
    run(main())


@pytest.mark.parametrize("bad", [
    "gzip", 1, {"server_max_window_bits": 7}, {"client_max_window_bits": 16}, {"server_max_window_bits": "x"},
    {"level": 10}, {"level": -2}, {"mem_level": 10}, {"mem_level": -1}, {"threshold": -1},
    {"window_bits": 10},
], ids=repr)
def test_invalid_parameters_raise_value_error(bad):
    async def serve():
        with pytest.raises(ValueError):
            await wsc.serve(echo, "127.0.0.1", 0, compression=bad)

    async def connect():
        with pytest.raises(ValueError):
            await wsc.connect("ws://127.0.0.1:1/", compression=bad)

    for main in (serve, connect):  # each on its own: the other's loop pass would hide a leak
        run(main())
        fds = open_fds()
        run(main())
        assert open_fds() == fds, f"a refused {main.__name__}() left a descriptor open"


def test_edge_parameters_are_accepted():
    # The ends of each range work end to end (8-bit windows, level 0 and 9, mem_level 1 and 9).
    async def main():
        for params in ({"server_max_window_bits": 8, "client_max_window_bits": 8, "level": 9, "mem_level": 9},
                       {"server_max_window_bits": 15, "client_max_window_bits": 15, "level": 0, "mem_level": 1},
                       {"level": -1, "mem_level": 0, "threshold": 0}):
            async with wsc.serve(echo, "127.0.0.1", 0, compression=params) as server:
                async with wsc.connect(f"ws://127.0.0.1:{server.port}/", compression=params) as ws:
                    assert ws.extensions.startswith("permessage-deflate")
                    for m in ("héllo " * 2000, os.urandom(40_000), os.urandom(5000).hex() * 4):
                        await ws.send(m)
                        assert await ws.recv() == m
    run(main())


# ---- python-websockets on the other side ---------------------------------------------------------

def test_python_websockets_client_with_our_compressing_server():
    seen = []

    async def handler(ws):
        seen.append(ws.extensions)
        await echo(ws)

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0, compression="deflate") as server:
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/", max_size=PY_MAX_SIZE) as ws:  # compression on by default
                assert ws.response_headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
                await check_roundtrips(ws)
            # With parameters from python-websockets' side.
            factory = websockets.extensions.permessage_deflate.ClientPerMessageDeflateFactory(
                server_max_window_bits=10, client_max_window_bits=11, client_no_context_takeover=True)
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/", extensions=[factory],
                                          compression=None, max_size=PY_MAX_SIZE) as ws:
                assert ws.response_headers["Sec-WebSocket-Extensions"] == (
                    "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; "
                    "client_max_window_bits=11")
                await check_roundtrips(ws)
    run(main(), 30)
    assert all(e.startswith("permessage-deflate") for e in seen) and len(seen) == 2


def test_our_client_with_a_compressing_python_websockets_server():
    # Repeats farther apart than a 9- or 10-bit window: a deflater that ignored the agreed
    # window would make back-references python-websockets cannot follow.
    far = os.urandom(4096).hex() * 16

    async def main():
        async with websockets.serve(echo, "127.0.0.1", 0, max_size=PY_MAX_SIZE) as server:  # compression on by default
            uri = f"ws://127.0.0.1:{py_port(server)}/"
            async with wsc.connect(uri) as ws:
                assert ws.extensions.startswith("permessage-deflate")
                await check_roundtrips(ws)
            params = dict(server_max_window_bits=10, client_max_window_bits=9, client_no_context_takeover=True)
            async with wsc.connect(uri, compression=params) as ws:
                assert ws.extensions == ("permessage-deflate; client_no_context_takeover; "
                                         "server_max_window_bits=10; client_max_window_bits=9")
                for _ in range(2):
                    await ws.send(far)
                    assert await ws.recv() == far
                await check_roundtrips(ws)
            assert ws.close_code == 1000
    run(main(), 30)


# ---- limits -------------------------------------------------------------------------------------

def test_a_decompression_bomb_closes_with_1009():
    seen = {}

    async def handler(ws):
        try:
            await ws.recv()
        except wsc.ConnectionClosedError as e:
            seen["error"] = e.name
            seen["cause"] = e.__cause__

    async def main():
        async with wsc.serve(handler, "127.0.0.1", 0, compression="deflate", max_size=MiB) as server:
            async with Relay(server.port) as relay:
                async with websockets.connect(f"ws://127.0.0.1:{relay.listen_port}/", max_size=None) as ws:
                    assert ws.response_headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
                    await ws.send(b"\0" * (10 * MiB))  # about 10 KB once compressed
                    with pytest.raises(websockets.ConnectionClosedError) as e:
                        await ws.recv()
                    assert e.value.rcvd.code == 1009
                assert relay.up < 100_000  # it was small on the wire: only inflating it was too big
    run(main())
    # The server failed the connection (RFC 6455 §7.1.7: it sent 1009 and did not wait for the answer).
    assert seen["error"] == "WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH"
    assert isinstance(seen["cause"], wsc.PayloadTooBig)
