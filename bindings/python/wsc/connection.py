"""A WebSocket connection for asyncio, on either side (python-websockets' Connection)."""

from __future__ import annotations

import asyncio
import collections
import ctypes
import os
from typing import AsyncIterator

from . import _ffi
from ._driver import Driver, check
from .exceptions import ConnectionClosed, ConnectionClosedOK, closed

Data = str | bytes

# Open connections: each holds itself here (and its CFUNCTYPE) until the C handle's final event,
# so no callback can reach a collected object.
_live: set["Connection"] = set()


class Connection:
    """Messages in order with ``recv()`` or ``async for``; ``send()``, ``ping()``, ``close()``."""

    def __init__(self, drv: Driver):
        self._drv = drv
        self._conn: int | None = None
        self._cb = _ffi.CONN_CB(self._on_event)
        self._messages: collections.deque[Data] = collections.deque()
        self._waiter: asyncio.Future | None = None
        self._closed = drv.aloop.create_future()
        self._opened = drv.aloop.create_future()
        self._drain: asyncio.Future | None = None
        self._pings: dict[bytes, tuple[asyncio.Future, float]] = {}
        self._exc: ConnectionClosed | None = None
        self._error = (0, "")
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.latency = 0.0
        self.subprotocol: str | None = None
        self.response_headers: list[tuple[str, str]] = []

    # ---- events from libwsc (on the asyncio thread, inside a loop pass) ----

    def _attach(self, handle: int) -> None:
        self._conn = handle
        _live.add(self)

    def _on_event(self, conn, evp, user_data) -> None:
        ev = evp.contents
        t = ev.type
        if t == _ffi.EV_MESSAGE:
            data = ctypes.string_at(ev.data, ev.len) if ev.len else b""
            self._deliver(data.decode() if ev.opcode == _ffi.OP_TEXT else data)
        elif t == _ffi.EV_OPEN:
            p = _ffi.lib.wsc_conn_protocol(self._conn)
            self.subprotocol = p.decode() or None if p else None
            if not self._opened.done():
                self._opened.set_result(None)
        elif t == _ffi.EV_PONG:
            payload = ctypes.string_at(ev.data, ev.len) if ev.len else b""
            self._pong(payload)
        elif t == _ffi.EV_UPGRADE:
            self.response_headers = _ffi.headers_list(ev.headers, ev.nheaders)
        elif t == _ffi.EV_UNEXPECTED_RESPONSE:
            self._unexpected = (ev.code, _ffi.headers_list(ev.headers, ev.nheaders),
                                ctypes.string_at(ev.data, ev.len) if ev.len else b"")
        elif t == _ffi.EV_DRAIN:
            if self._drain is not None and not self._drain.done():
                self._drain.set_result(None)
        elif t == _ffi.EV_ERROR:
            msg = ev.message.decode(errors="replace") if ev.message else _ffi.strerror(ev.error)
            self._error = (ev.error, msg)
        elif t == _ffi.EV_CLOSE:
            reason = ctypes.string_at(ev.data, ev.len).decode(errors="replace") if ev.len else ""
            self._on_close(ev.code, reason, bool(ev.was_clean))

    def _deliver(self, data: Data) -> None:
        w = self._waiter
        if w is not None and not w.done():
            self._waiter = None
            w.set_result(data)
        else:
            self._messages.append(data)

    def _pong(self, payload: bytes) -> None:
        # A pong answers the ping with its payload and every ping sent before it (RFC 6455 §5.5.3).
        now = self._drv.aloop.time()
        found = payload in self._pings
        for key in list(self._pings):
            fut, sent_at = self._pings.pop(key)
            self.latency = now - sent_at
            if not fut.done():
                fut.set_result(self.latency)
            if not found or key == payload:
                break

    def _on_close(self, code: int, reason: str, was_clean: bool) -> None:
        self.close_code, self.close_reason = code, reason
        err, _msg = self._error
        self._exc = closed(code, reason, was_clean, err, _ffi.err_name(err) if err else "")
        self._conn = None
        for fut, _ in self._pings.values():
            if not fut.done():
                fut.set_exception(self._exc)
        self._pings.clear()
        for fut in (self._waiter, self._drain, self._opened):
            if fut is not None and not fut.done():
                fut.set_exception(self._exc)
        self._waiter = None
        if not self._closed.done():
            self._closed.set_result(None)
        _live.discard(self)

    # ---- the API ----

    @property
    def state(self) -> int:
        """0 connecting, 1 open, 2 closing, 3 closed (as the C API's ready states)."""
        return 3 if self._conn is None else _ffi.lib.wsc_conn_ready_state(self._conn)

    async def recv(self) -> Data:
        """The next message: str for text, bytes for binary. Raises ConnectionClosed once closed
        and every message received before was read."""
        if self._messages:
            return self._messages.popleft()
        if self._exc is not None:
            raise self._exc
        if self._waiter is not None:
            raise RuntimeError("cannot call recv while another coroutine is already running recv")
        self._waiter = self._drv.aloop.create_future()
        return await self._waiter

    async def __aiter__(self) -> AsyncIterator[Data]:
        try:
            while True:
                yield await self.recv()
        except ConnectionClosed as e:
            if not isinstance(e, ConnectionClosedOK):
                raise

    def _handle(self) -> int:
        if self._conn is None:
            raise self._exc or ConnectionClosed(1006, "", False)
        return self._conn

    async def send(self, message: Data | bytes | bytearray | memoryview) -> None:
        """Sends a text (str) or binary message; waits while the send buffer is over its high-water mark."""
        if isinstance(message, str):
            op, data = _ffi.OP_TEXT, message.encode()
        elif isinstance(message, (bytes, bytearray, memoryview)):
            op, data = _ffi.OP_BINARY, bytes(message)
        else:
            raise TypeError("data must be str or bytes-like")
        rc = _ffi.lib.wsc_conn_send(self._handle(), op, data, len(data), 0, _ffi.NO_SEND_CB, None)
        check(rc, "send")
        self._drv.kick()
        if rc == _ffi.SEND_BACKPRESSURE:
            self._drain = self._drv.aloop.create_future()
            await self._drain

    async def ping(self, data: bytes | str | None = None) -> asyncio.Future:
        """Sends a ping; returns a future that resolves to the latency (s) when its pong arrives."""
        payload = data.encode() if isinstance(data, str) else bytes(data) if data else b""
        while not payload or payload in self._pings:
            payload = os.urandom(4)
        check(_ffi.lib.wsc_conn_ping(self._handle(), payload, len(payload), _ffi.NO_SEND_CB, None), "ping")
        fut = self._drv.aloop.create_future()
        self._pings[payload] = (fut, self._drv.aloop.time())
        self._drv.kick()
        return fut

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Starts the closing handshake and waits for the connection to close."""
        if self._conn is not None:
            r = reason.encode()
            rc = _ffi.lib.wsc_conn_close(self._conn, code, r, len(r))
            if rc < 0 and rc != _ffi.ESTATE:  # closing already: wait for it
                check(rc, "close")
            self._drv.kick()
        await asyncio.shield(self._closed)

    async def __aenter__(self) -> "Connection":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)

    def terminate(self) -> None:
        if self._conn is not None:
            _ffi.lib.wsc_conn_terminate(self._conn)
            self._drv.kick()
