"""A WebSocket connection for asyncio, on either side (python-websockets' Connection)."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterable, AsyncIterator, Iterable, Mapping

from . import _ffi
from ._conn import ConnCore, Data, check, encode, fragments
from ._driver import Driver
from .exceptions import ConnectionClosedOK

_send, _NO_SEND_CB = _ffi.lib.wsc_conn_send, _ffi.NO_SEND_CB

Sendable = Data | bytearray | memoryview | Iterable[Data] | AsyncIterable[Data]


class Connection(ConnCore):
    """Messages in order with ``recv()`` or ``async for``; ``send()``, ``ping()``, ``close()``.

    Attributes: ``id``, ``subprotocol``, ``extensions``, ``latency`` (of the last ping, s),
    ``close_code`` / ``close_reason`` once closed, ``local_address`` / ``remote_address``.
    """

    def __init__(self, drv: Driver, max_queue: int | None = 16):
        super().__init__(max_queue)
        self._drv = drv
        aloop = drv.aloop
        self._waiter: asyncio.Future | None = None
        self._closed = aloop.create_future()
        self._opened = aloop.create_future()
        self._drain: asyncio.Future | None = None
        self._send_lock = asyncio.Lock()

    # ---- hooks, on the asyncio thread inside a wsc loop pass ----

    def _on_message(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)
            # A pass queued now runs right after the woken task, in the same asyncio iteration:
            # what it sends goes out then, not one iteration (one GIL release) later.
            self._drv.kick()

    def _on_open(self) -> None:
        if not self._opened.done():
            self._opened.set_result(None)

    def _on_drain(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def _on_closed(self) -> None:
        for fut in (self._waiter, self._drain):
            if fut is not None and not fut.done():
                fut.set_result(None)  # the waiter sees the closed state
        if not self._opened.done():
            self._opened.set_exception(self._exc)
        if not self._closed.done():
            self._closed.set_result(None)

    # ---- the API ----

    @property
    def state(self) -> int:
        """0 connecting, 1 open, 2 closing, 3 closed (as the C API's ready states)."""
        return self._state_now()

    async def recv(self) -> Data:
        """The next message: str for text, bytes for binary. Raises ConnectionClosed once closed
        and every message received before was read."""
        while not self._messages:
            if self._exc is not None:
                raise self._exc
            if self._waiter is not None:
                raise RuntimeError("cannot call recv while another coroutine is already running recv")
            self._waiter = self._drv.aloop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        data = self._messages.popleft()
        if self._paused:
            self._resume_if_low()
            self._drv.kick()
        return data

    async def __aiter__(self) -> AsyncIterator[Data]:
        """Messages until the connection closes: normally (1000/1001) ends the loop, else raises."""
        try:
            while True:
                yield await self.recv()
        except ConnectionClosedOK:
            return

    async def _wait_drain(self, rc: int) -> None:
        if rc == _ffi.SEND_BACKPRESSURE and self._conn is not None:
            if self._drain is None or self._drain.done():  # one future for every sender waiting
                self._drain = self._drv.aloop.create_future()
            await asyncio.shield(self._drain)

    async def send(self, message: Sendable) -> None:
        """Sends a text (str) or binary (bytes-like) message, or one message in fragments from an
        iterable or async iterable of them. Waits while the send buffer is over its high-water
        mark (write_limit)."""
        t = type(message)
        if (t is bytes or t is str) and self._conn is not None and not self._send_lock.locked():
            # The hot path: a whole message, nothing in the way.
            data, op = (message, 2) if t is bytes else (message.encode(), 1)
            rc = _send(self._conn, op, data, len(data), 0, _NO_SEND_CB, None)
            self._drv.kick()
            if rc:
                check(rc, "send")
                await self._wait_drain(rc)
            return
        if isinstance(message, (str, bytes, bytearray, memoryview)):
            op, data = encode(message)
            async with self._send_lock:  # after a fragmented message being sent, if any
                rc = self._send_now(op, data, 0)
            self._drv.kick()
            await self._wait_drain(rc)
            return
        if isinstance(message, Mapping):
            raise TypeError("data is a dict-like object")
        async with self._send_lock:
            if isinstance(message, AsyncIterable):
                pieces = [item async for item in message]  # then sent as below
            elif isinstance(message, Iterable):
                pieces = message
            else:
                raise TypeError("data must be str, bytes-like, or an iterable of them")
            sent_more = False
            try:
                for op, data, flags in fragments(pieces):
                    rc = self._send_now(op, data, flags)
                    sent_more = bool(flags)
                    self._drv.kick()
                    await self._wait_drain(rc)
            except TypeError:
                if sent_more:  # a message cut short cannot be finished: as python-websockets, 1011
                    self._close_now(1011, "error in fragmented message")
                    self._drv.kick()
                raise

    async def ping(self, data: bytes | str | None = None) -> asyncio.Future:
        """Sends a ping; returns a future that resolves to the latency (s) when its pong arrives
        (``await (await ws.ping())``)."""
        fut = self._ping_now(data, self._drv.aloop.create_future())
        self._drv.kick()
        return fut

    async def pong(self, data: bytes | str = b"") -> None:
        """Sends an unsolicited pong."""
        payload = data.encode() if isinstance(data, str) else bytes(data)
        check(_ffi.lib.wsc_conn_pong(self._handle(), payload, len(payload), _ffi.NO_SEND_CB, None), "pong")
        self._drv.kick()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Starts the closing handshake and waits for the connection to close."""
        self._close_now(code, reason)
        self._drv.kick()
        await asyncio.shield(self._closed)

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)

    def terminate(self) -> None:
        """Closes at once, without a closing handshake (1006)."""
        self._terminate_now()
        self._drv.kick()

    @property
    def closed(self) -> bool:
        return self._closed.done()

    async def __aenter__(self) -> "Connection":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
