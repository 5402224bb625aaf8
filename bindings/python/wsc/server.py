"""``serve()``: the asyncio server (python-websockets' ``websockets.asyncio.server.serve``)."""

from __future__ import annotations

import asyncio
import ctypes
import inspect
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Iterable, NamedTuple

from . import _ffi
from ._conn import check, encode, live
from ._driver import Opener, driver
from ._options import DEFAULTS, Headers, server_options
from .connection import Connection


class Request(NamedTuple):
    path: str
    headers: Headers


class RequestView:
    """A server connection's upgrade request: ``request`` (path and headers), also as ``path`` /
    ``request_headers`` (python-websockets 10's names). Both servers' connections have it."""

    request = Request("/", Headers())

    @property
    def path(self) -> str:
        return self.request.path

    @property
    def request_headers(self) -> Headers:
        return self.request.headers


class ServerConnection(RequestView, Connection):
    """A server's connection (asyncio)."""


# process_request(path, headers) -> None to accept, or (status, headers, body) to answer instead;
# it may be a coroutine function.
ProcessRequest = Callable[[str, Headers], Any]


class RequestPolicy:
    """The upgrade decision both servers share: origins, process_request, subprotocol selection.
    ``decide`` returns ("accept", subprotocol) or ("reject", status, headers, body)."""

    def __init__(self, subprotocols: Iterable[str] | None, process_request: ProcessRequest | None,
                 origins: Iterable[str | None] | None, select_subprotocol: Callable | None):
        self.subprotocols = list(subprotocols or [])
        self.process_request = process_request
        self.origins = None if origins is None else list(origins)
        self.select_subprotocol = select_subprotocol

    @staticmethod
    def read(req) -> tuple[Request, list[str]]:
        path = _ffi.lib.wsc_request_target(req).decode("latin-1")
        items = []
        h = _ffi.Header()
        for i in range(_ffi.lib.wsc_request_header_count(req)):
            if _ffi.lib.wsc_request_header(req, i, ctypes.byref(h)) == 0:
                items.append((ctypes.string_at(h.name, h.name_len).decode("latin-1"),
                              ctypes.string_at(h.value, h.value_len).decode("latin-1")))
        offered = [_ffi.lib.wsc_request_protocol(req, i).decode()
                   for i in range(_ffi.lib.wsc_request_protocol_count(req))]
        return Request(path, Headers(items)), offered

    def decide(self, request: Request, offered: list[str]) -> Any:
        """A decision, or (from an async process_request) an awaitable of one."""
        if self.origins is not None and request.headers.get("Origin") not in self.origins:
            return ("reject", 403, Headers(), b"Failed to open a WebSocket connection: invalid Origin header.\n")
        if self.process_request is None:
            return self.after_hook(None, offered)
        try:
            answer = self.process_request(request.path, request.headers)
        except Exception:
            return self.failed()
        if inspect.isawaitable(answer):
            return self._later(answer, offered)
        return self.after_hook(answer, offered)

    async def _later(self, answer, offered: list[str]) -> tuple:
        try:
            return self.after_hook(await answer, offered)
        except Exception:
            return self.failed()

    @staticmethod
    def failed() -> tuple:
        return ("reject", 500, Headers(), b"Failed to open a WebSocket connection.\n")

    def after_hook(self, answer, offered: list[str]) -> tuple:
        if answer is not None:
            status, headers, body = answer
            return ("reject", int(status), Headers(headers), body)
        if self.select_subprotocol is not None:
            try:
                return ("accept", self.select_subprotocol(offered, self.subprotocols))
            except Exception:
                return self.failed()
        return ("accept", next((p for p in self.subprotocols if p in offered), None))

    @staticmethod
    def apply(req, decision: tuple) -> int:
        if decision[0] == "accept":
            p = decision[1]
            return _ffi.lib.wsc_request_accept(req, p.encode() if p else b"")  # b"": none (NULL: the client's first)
        _, status, headers, body = decision
        for k, v in headers.items():
            _ffi.lib.wsc_request_add_header(req, k.encode("latin-1"), v.encode("latin-1"))
        body = body.encode() if isinstance(body, str) else bytes(body or b"")
        try:
            phrase = HTTPStatus(status).phrase.encode()
        except ValueError:
            phrase = None
        return _ffi.lib.wsc_request_reject(req, status, phrase, body, len(body))


class ServerCore:
    """A libwsc server's events (loop thread); subclasses make and run the connections."""

    def _start(self, loop: int, kwargs: dict) -> None:
        opts = {**DEFAULTS, **kwargs}
        self._max_queue = opts.pop("max_queue")
        self._write_limit = opts["write_limit"]
        self._policy = RequestPolicy(opts.pop("subprotocols", None), opts.pop("process_request", None),
                                     opts.pop("origins", None), opts.pop("select_subprotocol", None))
        self._cb = _ffi.SERVER_CB(self._on_event)
        self._accepting = Request("/", Headers())  # the request being accepted: its CONNECTION follows
        self._deferred: dict[int, Any] = {}
        self._connections: set = set()
        so, keep = server_options(**opts)
        handle = ctypes.c_void_p()
        check(_ffi.lib.wsc_server_new(ctypes.byref(handle), loop, ctypes.byref(so), self._cb, None), "serve", detail=True)
        del keep
        self._srv = handle.value
        addr = _ffi.Addr()
        _ffi.lib.wsc_server_address(self._srv, ctypes.byref(addr))
        self.port = addr.port
        self.host = addr.address.decode()
        live.add(self)

    def _on_event(self, srv, evp, user_data) -> None:
        ev = evp.contents
        if ev.type == _ffi.SERVER_REQUEST:
            self._on_request(ev.request)
        elif ev.type == _ffi.SERVER_CONNECTION:
            ws = self._new_connection()
            ws.request = self._accepting
            _ffi.lib.wsc_conn_set_callback(ev.conn, ws._cb, None)
            ws._attach(ev.conn)
            ws._opened_now()
            ws._on_open()
            self._connections.add(ws)
            self._run_handler(ws)
        elif ev.type == _ffi.SERVER_REQUEST_CANCELLED:
            self._cancel_deferred(self._deferred.pop(ev.request, None))
        elif ev.type == _ffi.SERVER_CLOSE:
            self._srv = None
            self._on_server_closed()
            live.discard(self)

    def _on_request(self, req) -> None:
        request, offered = RequestPolicy.read(req)
        decision = self._policy.decide(request, offered)
        if isinstance(decision, tuple):
            self._decide(req, request, decision)
        else:  # decided later, by the hook's coroutine
            check(_ffi.lib.wsc_request_defer(req), "defer")
            self._deferred[req] = self._run_later(req, request, decision)

    def _decide(self, req, request: Request, decision: tuple) -> None:
        self._accepting = request  # the CONNECTION event follows within the accept
        if RequestPolicy.apply(req, decision) < 0 and decision[0] == "accept":
            RequestPolicy.apply(req, RequestPolicy.failed())  # a subprotocol the client did not offer

    def _new_connection(self): ...
    def _run_handler(self, ws) -> None: ...
    def _run_later(self, req, request: Request, pending) -> Any: ...
    def _cancel_deferred(self, token) -> None: ...
    def _on_server_closed(self) -> None: ...

    @property
    def connections(self) -> set:
        """The open connections (a copy: safe to iterate while they come and go)."""
        return self._connections.copy()

    def _resume_all(self) -> None:
        """Before closing: connections paused by max_queue read again, so the peers' close
        frames are seen instead of waiting out the close timeout."""
        for ws in self._connections.copy():
            ws._resume_for_close()

    def _broadcast_now(self, message) -> int:
        op, data = encode(message)
        sent = ctypes.c_size_t()
        if self._srv is None:
            return 0
        check(_ffi.lib.wsc_server_broadcast(self._srv, op, data, len(data), _ffi.NO_WALK_CB, None,
                                            ctypes.byref(sent)), "broadcast")
        return sent.value


Handler = Callable[[ServerConnection], Awaitable[None]]


class Server(ServerCore):
    """A listening server: ``port``, ``connections``; ``close()`` then ``await wait_closed()``."""

    def __init__(self, handler: Handler, host: str | None = None, port: int = 0, **kwargs: Any):
        self._drv = driver()
        self._handler = handler
        self._closed = self._drv.aloop.create_future()
        self._tasks: set[asyncio.Task] = set()
        try:
            self._start(self._drv.loop, {"host": host, "port": port, **kwargs})
        finally:
            self._drv.kick()  # also when _start() failed: the pass frees a wsc loop left with nothing open

    def _new_connection(self) -> ServerConnection:
        return ServerConnection(self._drv, self._max_queue)

    def _spawn(self, coro) -> asyncio.Task:
        task = self._drv.aloop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _run_handler(self, ws: ServerConnection) -> None:
        self._spawn(self._handle(ws))

    async def _handle(self, ws: ServerConnection) -> None:
        try:
            await self._handler(ws)
        except Exception:  # as python-websockets: a failing handler closes with 1011
            await ws.close(1011, "internal error")
        else:
            await ws.close()
        finally:
            self._connections.discard(ws)

    def _run_later(self, req, request: Request, pending) -> asyncio.Task:
        async def decide_later():
            decision = await pending
            if self._deferred.pop(req, None) is not None:  # else its client left meanwhile
                self._decide(req, request, decision)
                self._drv.kick()
        return self._spawn(decide_later())

    def _cancel_deferred(self, task) -> None:
        if task is not None:
            task.cancel()

    def _on_server_closed(self) -> None:
        if not self._closed.done():
            self._closed.set_result(None)

    def broadcast(self, message: str | bytes) -> int:
        """Sends one message to every open connection of this server (the frame is built once);
        returns how many it was queued to."""
        n = self._broadcast_now(message)
        self._drv.kick()
        return n

    def close(self, close_connections: bool = True) -> None:
        """Stops listening; closes every connection with 1001 (going away) unless told not to."""
        if self._srv is not None:
            if close_connections:
                self._resume_all()
            _ffi.lib.wsc_server_shutdown(self._srv, 1001, 0, 0 if close_connections else 1)
            self._drv.kick()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def serve_forever(self) -> None:
        await self.wait_closed()

    async def __aenter__(self) -> "Server":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()
        await self.wait_closed()


class serve(Opener):
    """``async with serve(handler, host, port) as server`` or ``server = await serve(...)``.

    Options: ``unix_path`` (listen on a Unix socket), ``path`` (accept only this request path),
    ``subprotocols`` and ``select_subprotocol(offered, available)``, ``origins`` (allowed
    Origin values; None in the list admits requests without one), ``process_request(path,
    headers)`` (plain or async: None accepts, ``(status, headers, body)`` answers instead),
    ``compression`` (None by default on servers: "deflate" or a dict enables it), ``ssl`` (a
    wsc.SSLContext or wsc.TLSOptions), ``open_timeout``, ``ping_interval``, ``ping_timeout``,
    ``close_timeout``, ``max_size``, ``max_queue``, ``write_limit``, ``backlog``, ``max_headers``,
    ``max_header_bytes``.
    """

    def __init__(self, handler: Handler, host: str | None = None, port: int = 0, **kwargs: Any):
        kwargs.setdefault("compression", None)
        self._args = (handler, host, port)
        self._kwargs = kwargs

    async def _open(self) -> Server:
        return Server(*self._args, **self._kwargs)


def unix_serve(handler: Handler, path: str, **kwargs: Any) -> serve:
    """serve() on a Unix socket."""
    return serve(handler, unix_path=path, **kwargs)


def broadcast(connections: Iterable[Connection], message: str | bytes) -> None:
    """Sends a message to every open connection among ``connections`` without waiting (as
    python-websockets' broadcast): a connection that is closing, or over its queue cap, is
    skipped."""
    op, data = encode(message)
    kicked = set()
    for ws in connections:
        if ws._conn is None or ws._send_lock.locked():
            continue
        if _ffi.lib.wsc_conn_send(ws._conn, op, data, len(data), 0, _ffi.NO_SEND_CB, None) >= 0:
            if ws._drv not in kicked:
                kicked.add(ws._drv)
                ws._drv.kick()
