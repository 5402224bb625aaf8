"""What the asyncio and blocking connections share: libwsc's events decoded, pings matched to
pongs, received messages queued with flow control, and messages split into fragments.

Everything here runs on the thread that runs the wsc loop (the asyncio thread, or the blocking
API's loop thread), inside a loop pass; subclasses wake their waiters in the ``_on_*`` hooks.
"""

from __future__ import annotations

import collections
import ctypes
import os
import time
from typing import Any, Iterable, Iterator

from . import _ffi
from ._options import Headers, headers_from_c
from .exceptions import ConnectionClosed, PayloadTooBig, WscError, closed

Data = str | bytes
_event_at, _bytes_at = _ffi.event_at, _ffi.bytes_at

# Open connections: each holds itself here (and so its CFUNCTYPE) until the C handle's final
# event, so no callback can reach a collected object.
live: set["ConnCore"] = set()


def check(rc: int, what: str, detail: bool = False) -> int:
    """rc, or WscError; detail: the call (wsc_connect, wsc_server_new) leaves its reason in
    wsc_last_error_message, which then replaces strerror's words."""
    if rc < 0:
        text = _ffi.lib.wsc_last_error_message().decode(errors="replace") if detail else ""
        raise WscError(f"{what}: {text or _ffi.strerror(rc)}", rc, _ffi.err_name(rc))
    return rc


def _addr(fn, conn) -> Any:
    a = _ffi.Addr()
    if fn(conn, ctypes.byref(a)) != 0:
        return None
    host = a.address.decode()
    return host if a.port == 0 and host.startswith("/") or a.family == 0 else (host, a.port)


def encode(message) -> tuple[int, bytes]:
    if isinstance(message, str):
        return _ffi.OP_TEXT, message.encode()
    if isinstance(message, (bytes, bytearray, memoryview)):
        return _ffi.OP_BINARY, bytes(message)
    raise TypeError("data must be str, bytes-like, or an iterable of them")


def fragments(items: Iterable) -> Iterator[tuple[int, bytes, int]]:
    """(opcode, bytes, flags) for each fragment: WSC_SEND_MORE on all but the last. All of one type."""
    it = iter(items)
    try:
        op, data = encode(next(it))
    except StopIteration:
        return
    for item in it:
        nop, ndata = encode(item)
        if nop != op:
            raise TypeError("iterable must contain only str or only bytes-like")
        yield op, data, _ffi.SEND_MORE
        data = ndata
    yield op, data, 0


class ConnCore:
    """A connection's state, fed by libwsc's callback."""

    def __init__(self, max_queue: int | None = 16):
        self._conn: int | None = None
        self._cb = _ffi.CONN_CB(self._on_event)
        self._messages: collections.deque[Data] = collections.deque()
        self._max_queue = max_queue or 0
        self._paused = False
        self._pings: dict[bytes, tuple[Any, float]] = {}
        self._exc: ConnectionClosed | None = None
        self._error = (0, "")
        self._unexpected: tuple[int, Headers, bytes] | None = None
        self.id = 0
        self.opened = False  # the opening handshake completed
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.latency = 0.0
        self.subprotocol: str | None = None
        self.extensions = ""
        self.response_headers = Headers()
        self.local_address: Any = None
        self.remote_address: Any = None

    def _attach(self, handle: int) -> None:
        self._conn = handle
        self.id = _ffi.lib.wsc_conn_id(handle)
        live.add(self)

    # ---- libwsc's events ----

    def _on_event(self, conn, addr, user_data) -> None:
        ev = _event_at(addr)
        t = ev.type
        if t == 2:  # _ffi.EV_MESSAGE, the hot path
            data = _bytes_at(ev.data, ev.len)
            self._queue(data.decode() if ev.opcode == 1 else data)  # 1: _ffi.OP_TEXT
        elif t == _ffi.EV_OPEN:
            self._opened_now()
            self._on_open()
        elif t == _ffi.EV_PONG:
            self._pong(ctypes.string_at(ev.data, ev.len) if ev.len else b"")
        elif t == _ffi.EV_UPGRADE:
            self.response_headers = headers_from_c(ev.headers, ev.nheaders)
        elif t == _ffi.EV_UNEXPECTED_RESPONSE:
            self._unexpected = (ev.code, headers_from_c(ev.headers, ev.nheaders),
                                ctypes.string_at(ev.data, ev.len) if ev.len else b"")
        elif t == _ffi.EV_DRAIN:
            self._on_drain()
        elif t == _ffi.EV_ERROR:
            msg = ev.message.decode(errors="replace") if ev.message else _ffi.strerror(ev.error)
            self._error = (ev.error, msg)
        elif t == _ffi.EV_CLOSE:
            reason = ctypes.string_at(ev.data, ev.len).decode(errors="replace") if ev.len else ""
            self._closed_now(ev.code, reason, bool(ev.was_clean))

    def _opened_now(self) -> None:
        self.opened = True
        c = self._conn
        p = _ffi.lib.wsc_conn_protocol(c)
        self.subprotocol = (p.decode() or None) if p else None
        e = _ffi.lib.wsc_conn_extensions(c)
        self.extensions = e.decode() if e else ""
        self.local_address = _addr(_ffi.lib.wsc_conn_local_address, c)
        self.remote_address = _addr(_ffi.lib.wsc_conn_remote_address, c)

    def _queue(self, data: Data) -> None:
        self._messages.append(data)
        if self._max_queue and len(self._messages) >= self._max_queue and not self._paused:
            self._paused = True  # python-websockets' max_queue: stop reading until recv catches up
            _ffi.lib.wsc_conn_pause(self._conn)
        self._on_message()

    def _resume_if_low(self) -> None:
        """After recv took messages: reading goes on once the queue is down to a quarter."""
        if self._paused and len(self._messages) <= self._max_queue // 4 and self._conn is not None:
            self._paused = False
            _ffi.lib.wsc_conn_resume(self._conn)

    def _pong(self, payload: bytes) -> None:
        # A pong answers the ping with its payload and every ping sent before it (RFC 6455 §5.5.3).
        # Any other pong (a heartbeat, or the answer to libwsc's empty keepalive ping) answers none.
        if payload not in self._pings:
            return
        now = time.monotonic()
        for key in list(self._pings):
            fut, sent_at = self._pings.pop(key)
            self.latency = now - sent_at
            if not fut.done():
                fut.set_result(self.latency)
            if key == payload:
                break

    def _closed_now(self, code: int, reason: str, was_clean: bool) -> None:
        self.close_code, self.close_reason = code, reason
        err, msg = self._error
        self._exc = closed(code, reason, was_clean, err, _ffi.err_name(err) if err else "")
        if err == _ffi.ERR_UNSUPPORTED_MESSAGE_LENGTH:
            self._exc.__cause__ = PayloadTooBig(msg, err, _ffi.err_name(err))
        self._conn = None
        for fut, _ in self._pings.values():
            if not fut.done():
                fut.set_exception(self._exc)
        self._pings.clear()
        self._on_closed()
        live.discard(self)

    def _on_message(self) -> None: ...
    def _on_open(self) -> None: ...
    def _on_drain(self) -> None: ...
    def _on_closed(self) -> None: ...

    # ---- loop-thread halves of the API ----

    def _handle(self) -> int:
        if self._conn is None:
            raise self._exc or ConnectionClosed(1006, "", False)
        return self._conn

    def _send_now(self, op: int, data: bytes, flags: int) -> int:
        """Queues one frame or message; returns 0 or WSC_SEND_BACKPRESSURE."""
        return check(_ffi.lib.wsc_conn_send(self._handle(), op, data, len(data), flags, _ffi.NO_SEND_CB, None),
                     "send")

    def _ping_now(self, data, fut) -> Any:
        payload = data.encode() if isinstance(data, str) else bytes(data) if data else b""
        if payload in self._pings:
            raise RuntimeError("already waiting for a pong with the same data")
        while not payload:
            payload = os.urandom(4)
            if payload in self._pings:
                payload = b""
        check(_ffi.lib.wsc_conn_ping(self._handle(), payload, len(payload), _ffi.NO_SEND_CB, None), "ping")
        self._pings[payload] = (fut, time.monotonic())
        return fut

    def _resume_for_close(self) -> None:
        self._max_queue = 0  # closing: read on to the peer's close frame, whatever queues up first
        if self._paused and self._conn is not None:
            self._paused = False  # the peer's close frame waits behind what max_queue held back
            _ffi.lib.wsc_conn_resume(self._conn)

    def _close_now(self, code: int, reason: str) -> None:
        self._resume_for_close()
        if self._conn is not None:
            r = reason.encode()
            rc = _ffi.lib.wsc_conn_close(self._conn, code, r, len(r))
            if rc < 0 and rc != _ffi.ESTATE:  # closing already: the caller waits for it
                check(rc, "close")

    def _terminate_now(self) -> None:
        if self._conn is not None:
            _ffi.lib.wsc_conn_terminate(self._conn)

    def _state_now(self) -> int:
        return 3 if self._conn is None else _ffi.lib.wsc_conn_ready_state(self._conn)

    def _failed_open(self) -> Exception:
        """Why the opening handshake failed, in python-websockets' terms: InvalidStatus for a
        non-101 answer, InvalidURI, TimeoutError, OSError for the connection itself, ssl.SSLError
        for TLS, else InvalidHandshake (each WscError carries libwsc's code)."""
        import ssl
        from .exceptions import InvalidHandshake, InvalidStatus, InvalidURI
        if self._unexpected is not None:
            return InvalidStatus(*self._unexpected)
        err, msg = self._error
        name = _ffi.err_name(err) if err else ""
        if err == _ffi.EURL:
            return InvalidURI(getattr(self, "uri", ""), msg)
        if err in (_ffi.EHANDSHAKE_TIMEOUT, _ffi.ETIMEDOUT):
            return TimeoutError(msg)
        if err == _ffi.ECONNREFUSED:
            return ConnectionRefusedError(msg)
        if -300 >= err > -400:
            return OSError(msg)
        if -402 >= err >= -406:
            return ssl.SSLCertVerificationError(msg)
        if -400 >= err > -500:
            return ssl.SSLError(msg)
        return InvalidHandshake(msg or "connection failed", err, name)
