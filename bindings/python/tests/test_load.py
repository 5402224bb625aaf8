"""The asyncio API under load, in one process: a thousand concurrent connections, and callbacks
that stay safe while the garbage collector runs and nothing in Python refers to a connection
or a server any more. Afterwards nothing is left: no live connection, no thread, no descriptor."""

import asyncio
import gc
import os
import random
import resource
import threading
import weakref

import pytest

import wsc
from wsc import _conn

N = 1000


def run(coro, timeout=10):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


async def echo(ws):
    async for message in ws:
        await ws.send(message)


@pytest.fixture
def enough_descriptors():
    """The soft RLIMIT_NOFILE raised to the hard limit for the test (both ends of every
    connection are in this process), and put back after it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = fd_count() + 2 * N + 100
    limit = hard
    if hard == resource.RLIM_INFINITY:
        with open("/proc/sys/fs/nr_open") as f:
            limit = int(f.read())
    if limit < need:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is under the {need} descriptors {N} connections need")
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def nothing_left():
    """After the test: no live connection or server, no thread started, every descriptor back."""

    async def warm_up():  # libuv opens a pipe pair once per process, with its first loop: not a leak
        async with wsc.serve(echo, "127.0.0.1", 0):
            pass

    run(warm_up())
    gc.collect()
    threads, fds = threading.active_count(), fd_count()
    yield
    gc.collect()
    assert not _conn.live, f"{len(_conn.live)} connections or servers still live"
    assert threading.active_count() == threads, "a thread was started"
    assert fd_count() == fds, f"{fd_count() - fds} descriptors left open"


def test_a_thousand_concurrent_connections_in_one_process(enough_descriptors, nothing_left):
    rng = random.Random(1)
    payloads = [[f"text {i} {'é' * rng.randrange(0, 50)}", rng.randbytes(rng.randrange(1, 4000)), str(i) * 300]
                for i in range(N)]

    async def main():
        opened = 0
        all_open = asyncio.Event()
        peak = {}

        async with wsc.serve(echo, "127.0.0.1", 0, backlog=2048) as server:
            uri = f"ws://127.0.0.1:{server.port}/"

            async def client(i):
                nonlocal opened
                ws = await wsc.connect(uri, open_timeout=60)
                opened += 1
                if opened == N:
                    all_open.set()
                await all_open.wait()  # every connection is open at once before any message
                for m in payloads[i]:
                    await ws.send(m)
                    got = await ws.recv()
                    assert got == m and type(got) is type(m), i
                await ws.close()
                return ws.close_code

            async def watch():
                await all_open.wait()
                peak["server"] = len(server.connections)
                peak["live"] = len(_conn.live)

            watcher = asyncio.create_task(watch())
            codes = await asyncio.gather(*(client(i) for i in range(N)))
            await watcher
            assert codes == [1000] * N
            assert peak["server"] == N  # all of them open on the server side at once
            assert peak["live"] >= 2 * N  # both ends of each, and the server
            for _ in range(200):
                if not server.connections:
                    break
                await asyncio.sleep(0.05)
            assert not server.connections
    run(main(), 120)


def test_callbacks_survive_garbage_collection_with_no_python_reference(nothing_left):
    clients, orphans, rounds = 40, 20, 20

    async def main():
        # A server no Python variable holds: only a weak reference to reach it at the end.
        server_ref = weakref.ref(await wsc.serve(echo, "127.0.0.1", 0, max_queue=None))
        port = server_ref().port
        uri = f"ws://127.0.0.1:{port}/"
        gc.collect()
        assert server_ref() is not None, "an open server is kept by the library"

        stop = asyncio.Event()
        collections_run = [0]

        async def collector():  # collections all the while messages flow: young ones often, full ones too
            while not stop.is_set():
                gc.collect(0 if collections_run[0] % 8 else 2)
                collections_run[0] += 1
                await asyncio.sleep(0.005)

        collecting = asyncio.create_task(collector())

        # Connections with no Python reference at all while their echoes come back: sent a
        # burst, then dropped; only a weak reference remains.
        orphan_refs = []
        for i in range(orphans):
            ws = await wsc.connect(uri, max_queue=None)
            for k in range(10):
                await ws.send(f"orphan {i} {k}")
            orphan_refs.append(weakref.ref(ws))
            del ws
            gc.collect()

        # Client tasks nobody keeps (asyncio holds tasks weakly): each has only local state.
        done = {}
        finished = asyncio.Event()

        async def client(i):
            ws = await wsc.connect(uri)
            for k in range(rounds):
                m = f"client {i} round {k}" if k % 2 else bytes([i, k]) * 100
                await ws.send(m)
                assert await ws.recv() == m
                if k % 5 == 0:
                    gc.collect(0 if i % 8 else 2)
            await ws.close()
            done[i] = ws.close_code
            if len(done) == clients:
                finished.set()

        for i in range(clients):
            asyncio.ensure_future(client(i))
        del i
        await asyncio.wait_for(finished.wait(), 90)
        assert done == {i: 1000 for i in range(clients)}

        # The orphans received every echo meanwhile, in order.
        for i, ref in enumerate(orphan_refs):
            ws = ref()
            assert ws is not None, "an open connection is kept by the library"
            got = [await asyncio.wait_for(ws.recv(), 5) for _ in range(10)]
            assert got == [f"orphan {i} {k}" for k in range(10)]
            await ws.close()
            del ws

        stop.set()
        await collecting
        assert collections_run[0] >= 10

        server = server_ref()
        server.close()
        await asyncio.wait_for(server.wait_closed(), 10)
        del server
        gc.collect()
        assert server_ref() is None, "a closed server is released"
        assert all(ref() is None for ref in orphan_refs), "closed connections are released"

    run(main(), 120)
