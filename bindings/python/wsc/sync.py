"""The blocking API, for scripts and threads (python-websockets' ``websockets.sync``).

One background thread, started by Python (never one C created), runs a wsc loop for every
blocking connection and server of the process; it sleeps in ``wsc_loop_run`` with the GIL
released, and ends once nothing is open. Calls from any thread hand their work to it
(``wsc_loop_post``) and wait for the answer; received messages wait in each connection's queue
for ``recv()``. A server runs each connection's handler in a thread of its own. Every object
here may be used from several threads at once.

    from wsc.sync import connect
    with connect("ws://localhost:8765") as ws:
        ws.send("hello")
        print(ws.recv(timeout=5))
"""

from __future__ import annotations

import collections
import concurrent.futures
import ctypes
import threading
from typing import Any, Callable, Iterable, Iterator, Mapping

from . import _ffi
from ._conn import ConnCore, Data, check, encode, fragments
from ._options import DEFAULTS
from .client import start, unix_uri
from .exceptions import ConnectionClosedOK
from .server import Request, RequestPolicy, RequestView, ServerCore

__all__ = ["connect", "unix_connect", "serve", "unix_serve", "ClientConnection", "ServerConnection", "Server"]


class _LoopThread:
    """The thread that runs the blocking API's wsc loop, and the queue of work handed to it."""

    def __init__(self) -> None:
        handle = ctypes.c_void_p()
        check(_ffi.lib.wsc_loop_new(ctypes.byref(handle), None), "wsc_loop_new")
        self.loop = handle.value
        _ffi.lib.wsc_loop_keep_alive(self.loop, 1)
        self.lock = threading.Lock()
        self.jobs: collections.deque = collections.deque()
        self.dead = False
        self._post_cb = _ffi.POST_CB(self._run_jobs)
        self.thread = threading.Thread(target=self._main, name="wsc-sync-loop", daemon=True)
        self.thread.start()

    def _main(self) -> None:
        while True:
            _ffi.blocking.wsc_loop_run(self.loop, _ffi.RUN_DEFAULT)  # lets the GIL go while it waits
            with self.lock:
                if self.dead:
                    break
        _ffi.lib.wsc_loop_free(self.loop)

    def submit(self, fn: Callable, *args: Any, wait: bool = True) -> concurrent.futures.Future | None:
        """Runs fn(*args) on the loop thread; returns its future (None if this loop has ended)."""
        fut = concurrent.futures.Future() if wait else None
        with self.lock:
            if self.dead:
                return None
            self.jobs.append((fn, args, fut))
            # One post per job keeps jobs in order with libwsc's own posts (wsc_conn_send_threadsafe).
            check(_ffi.lib.wsc_loop_post(self.loop, self._post_cb, None), "wsc_loop_post")
        return fut

    def call(self, fn: Callable, *args: Any) -> Any:
        if threading.current_thread() is self.thread:
            return fn(*args)
        fut = self.submit(fn, *args)
        if fut is None:
            raise RuntimeError("the wsc loop thread has ended")
        return fut.result()

    def _run_jobs(self, loop, user_data) -> None:
        with self.lock:
            fn, args, fut = self.jobs.popleft()
        try:
            result = fn(*args)
        except BaseException as e:
            if fut is None:
                raise  # a bug: ctypes reports it as unraisable
            fut.set_exception(e)
        else:
            if fut is not None:
                fut.set_result(result)
        self._end_if_idle()

    def _end_if_idle(self) -> None:
        with self.lock:
            if not self.jobs and not self.dead and _ffi.lib.wsc_loop_handle_count(self.loop) == 0:
                self.dead = True
                _ffi.lib.wsc_loop_keep_alive(self.loop, 0)
                _ffi.lib.wsc_loop_stop(self.loop)

    def handle_gone(self) -> None:
        """A connection or server ended (its final event): end the thread if that was the last.
        Checked on a later pass, once libwsc has freed the handle."""
        self.submit(self._end_if_idle, wait=False)


_lock = threading.Lock()
_current: _LoopThread | None = None


def _loop_thread() -> _LoopThread:
    global _current
    with _lock:
        if _current is None or _current.dead:
            _current = _LoopThread()
        return _current


def _on_loop(fn: Callable, *args: Any) -> tuple[_LoopThread, Any]:
    """Runs fn(loop_thread, *args) on a live loop thread, starting one when needed."""
    while True:
        lt = _loop_thread()
        fut = lt.submit(fn, lt, *args)
        if fut is not None:
            return lt, fut.result()


class Connection(ConnCore):
    """A blocking connection: ``send``, ``recv(timeout)``, ``ping``, ``close``, iteration."""

    def __init__(self, lt: _LoopThread, max_queue: int | None = 16, write_limit: Any = 2**15):
        super().__init__(max_queue)
        self._lt = lt
        self._cond = threading.Condition()
        self._opened = threading.Event()
        self._closed = threading.Event()
        self._drained = True
        self._send_lock = threading.Lock()
        self._fragmenting = False  # loop thread: a message sent in fragments awaits its last one
        # Whole messages go through wsc_conn_send_threadsafe without waiting for the loop thread;
        # their completions count the bytes still queued, which send() keeps under write_limit.
        self._sent_cb = _ffi.SEND_CB(self._on_sent)
        self._queued: collections.deque[int] = collections.deque()
        self._queued_bytes = 0
        self._write_limit = write_limit if isinstance(write_limit, int) else write_limit[0]

    # ---- hooks, on the loop thread ----

    def _on_message(self) -> None:
        with self._cond:
            self._cond.notify()

    def _on_open(self) -> None:
        self._opened.set()

    def _on_drain(self) -> None:
        with self._cond:
            self._drained = True
            self._cond.notify_all()

    def _on_closed(self) -> None:
        with self._cond:
            self._cond.notify_all()
        self._opened.set()
        self._closed.set()
        self._lt.handle_gone()

    # ---- the API, from any thread ----

    def _call(self, fn: Callable, *args: Any) -> Any:
        if self._exc is not None:
            raise self._exc
        fut = self._lt.submit(fn, *args) if threading.current_thread() is not self._lt.thread else None
        if fut is None:
            return fn(*args)  # on the loop thread itself, or after the loop ended (fn raises ConnectionClosed)
        return fut.result()

    @property
    def state(self) -> int:
        """0 connecting, 1 open, 2 closing, 3 closed."""
        return 3 if self._closed.is_set() else self._call(self._state_now)

    def recv(self, timeout: float | None = None) -> Data:
        """The next message (str for text, bytes for binary). Raises TimeoutError after timeout
        seconds, and ConnectionClosed once closed and every earlier message was read."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._messages or self._exc is not None, timeout):
                raise TimeoutError("timed out waiting for a message")
            if not self._messages:
                raise self._exc
            data = self._messages.popleft()
        if self._paused:
            self._lt.submit(self._resume_if_low, wait=False)
        return data

    def __iter__(self) -> Iterator[Data]:
        """Messages until the connection closes: normally (1000/1001) ends the loop, else raises."""
        try:
            while True:
                yield self.recv()
        except ConnectionClosedOK:
            return

    def _send_job(self, op: int, data: bytes, flags: int) -> int:
        rc = self._send_now(op, data, flags)
        self._fragmenting = bool(flags & _ffi.SEND_MORE)
        if rc == _ffi.SEND_BACKPRESSURE:
            self._drained = False
        return rc

    def _on_sent(self, conn, status, user_data) -> None:
        with self._cond:
            self._queued_bytes -= self._queued.popleft()
            if self._queued_bytes <= self._write_limit // 4:
                self._cond.notify_all()

    def _send_whole(self, op: int, data: bytes) -> None:
        if self._exc is not None:
            raise self._exc
        with self._cond:
            if self._queued_bytes > self._write_limit:  # wait until the loop wrote most of it
                self._cond.wait_for(lambda: self._queued_bytes <= self._write_limit // 4 or self._exc is not None)
                if self._exc is not None:
                    raise self._exc
            self._queued.append(len(data))
            self._queued_bytes += len(data)
        with self._lt.lock:  # a dead loop is being freed: the connection closed since the check above
            dead = self._lt.dead
            rc = 0 if dead else _ffi.lib.wsc_conn_send_threadsafe(self._lt.loop, self.id, op, data, len(data),
                                                                  self._sent_cb, None)
        if dead or rc < 0:
            with self._cond:
                self._queued.pop()
                self._queued_bytes -= len(data)
            if dead:
                self._handle()  # raises ConnectionClosed
            check(rc, "send")

    def _send_piece(self, op: int, data: bytes, flags: int) -> None:
        if self._call(self._send_job, op, data, flags) == _ffi.SEND_BACKPRESSURE:
            with self._cond:  # over write_limit: wait until the buffer drains
                self._cond.wait_for(lambda: self._drained or self._exc is not None)

    def send(self, message: Data | bytearray | memoryview | Iterable[Data]) -> None:
        """Sends a text (str) or binary (bytes-like) message, or one message in fragments from an
        iterable. Returns once libwsc queued it; waits while the buffer is over write_limit."""
        if isinstance(message, Mapping):
            raise TypeError("data is a dict-like object")
        with self._send_lock:  # a fragmented message is not interleaved with another thread's
            if isinstance(message, (str, bytes, bytearray, memoryview)):
                self._send_whole(*encode(message))
                return
            if not isinstance(message, Iterable):
                raise TypeError("data must be str, bytes-like, or an iterable of them")
            sent_more = False
            try:
                for op, data, flags in fragments(message):
                    self._send_piece(op, data, flags)
                    sent_more = bool(flags)
            except TypeError:
                if sent_more:
                    self._call(self._close_now, 1011, "error in fragmented message")
                raise

    def ping(self, data: bytes | str | None = None) -> concurrent.futures.Future:
        """Sends a ping; the returned future resolves to the latency (s) when its pong arrives."""
        return self._call(self._ping_now, data, concurrent.futures.Future())

    def pong(self, data: bytes | str = b"") -> None:
        payload = data.encode() if isinstance(data, str) else bytes(data)
        self._call(lambda: check(_ffi.lib.wsc_conn_pong(self._handle(), payload, len(payload),
                                                        _ffi.NO_SEND_CB, None), "pong"))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Starts the closing handshake and waits until the connection is closed."""
        if not self._closed.is_set():
            fut = self._lt.submit(self._close_now, code, reason)
            if fut is not None:
                fut.result()
        self._closed.wait()

    def wait_closed(self, timeout: float | None = None) -> bool:
        return self._closed.wait(timeout)

    def terminate(self) -> None:
        """Closes at once, without a closing handshake (1006)."""
        self._lt.submit(self._terminate_now, wait=False)

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class ClientConnection(Connection):
    """A client's connection; ``response_headers`` are the server's 101 answer's."""


def connect(uri: str, **kwargs: Any) -> ClientConnection:
    """Opens a connection and returns it once open (use it with ``with`` to close it).

    Options: as wsc.connect (subprotocols, additional_headers, origin, compression,
    open_timeout, ping_interval, ping_timeout, close_timeout, max_size, max_queue, write_limit,
    ssl, server_hostname, follow_redirects, max_redirects). Raises InvalidURI, InvalidStatus,
    InvalidHandshake, TimeoutError, OSError or ssl.SSLError as python-websockets does.
    """
    max_queue = kwargs.get("max_queue", DEFAULTS["max_queue"])
    write_limit = kwargs.get("write_limit", DEFAULTS["write_limit"])

    def begin(lt: _LoopThread) -> ClientConnection:
        ws = ClientConnection(lt, max_queue, write_limit)
        start(ws, lt.loop, uri, kwargs)
        return ws

    _lt, ws = _on_loop(begin)
    ws._opened.wait()  # libwsc ends every attempt with OPEN or CLOSE (open_timeout included)
    if not ws.opened:
        raise ws._failed_open()
    return ws


def unix_connect(path: str, uri: str = "ws://localhost/", **kwargs: Any) -> ClientConnection:
    """connect() over the Unix socket at ``path``; ``uri`` gives the request's path."""
    return connect(unix_uri(path, uri), **kwargs)


class ServerConnection(RequestView, Connection):
    """A server's connection: ``request`` (path, headers), ``path``, ``request_headers``."""


class Server(ServerCore):
    """A threaded server: each connection's handler(ws) runs in its own thread.
    ``serve_forever()`` blocks until ``shutdown()``; ``with serve(...) as server`` shuts down."""

    def __init__(self, handler: Callable[[ServerConnection], None], host: str | None = None, port: int = 0,
                 **kwargs: Any):
        self._handler = handler
        self._threads: set[threading.Thread] = set()
        self._closed = threading.Event()
        kwargs.setdefault("compression", None)
        _on_loop(self._listen, {"host": host, "port": port, **kwargs})

    def _listen(self, lt: _LoopThread, opts: dict) -> None:
        self._lt = lt  # before listening: a connection may come before serve() returns
        self._start(lt.loop, opts)

    # ---- on the loop thread ----

    def _new_connection(self) -> ServerConnection:
        return ServerConnection(self._lt, self._max_queue, self._write_limit)

    def _thread(self, target: Callable, *args: Any) -> None:
        t = threading.Thread(target=target, args=args, daemon=True, name="wsc-sync-handler")
        self._threads.add(t)
        t.start()

    def _run_handler(self, ws: ServerConnection) -> None:
        self._thread(self._handle, ws)

    def _on_request(self, req) -> None:
        if self._policy.process_request is None:
            super()._on_request(req)
            return
        # process_request may block (a database, a file): it runs in a thread, the request waits.
        request, offered = RequestPolicy.read(req)
        check(_ffi.lib.wsc_request_defer(req), "defer")
        self._deferred[req] = request  # this request's own: another may get its address later
        self._thread(self._decide_in_thread, req, request, offered)

    def _decide_in_thread(self, req, request: Request, offered: list[str]) -> None:
        try:
            decision = self._policy.decide(request, offered)
            if not isinstance(decision, tuple):
                raise TypeError("a blocking server's process_request must not be a coroutine")
        except Exception:
            decision = RequestPolicy.failed()
        self._lt.submit(self._decided, req, request, decision, wait=False)
        self._threads.discard(threading.current_thread())

    def _decided(self, req, request: Request, decision: tuple) -> None:
        if self._deferred.get(req) is request:  # else its client left meanwhile
            del self._deferred[req]
            self._decide(req, request, decision)

    def _cancel_deferred(self, token) -> None:
        pass  # the thread's decision finds the request gone

    def _on_server_closed(self) -> None:
        self._closed.set()
        self._lt.handle_gone()

    # ---- in the handler's thread ----

    def _handle(self, ws: ServerConnection) -> None:
        try:
            self._handler(ws)
        except Exception:  # as python-websockets: a failing handler closes with 1011
            ws.close(1011, "internal error")
        else:
            ws.close()
        finally:
            self._connections.discard(ws)
            self._threads.discard(threading.current_thread())

    # ---- the API, from any thread ----

    def broadcast(self, message: str | bytes) -> int:
        """Sends one message to every open connection (the frame is built once); returns how many."""
        return self._lt.call(self._broadcast_now, message) if not self._closed.is_set() else 0

    def serve_forever(self) -> None:
        """Blocks until the server is shut down (from another thread, or a handler)."""
        self._closed.wait()

    def shutdown(self, close_connections: bool = True, timeout: float | None = 10.0) -> None:
        """Stops listening, closes the connections with 1001 (unless told not to), and waits for
        them and their handlers' threads (up to timeout seconds each)."""
        if not self._closed.is_set():
            fut = self._lt.submit(self._shutdown_now, close_connections)
            if fut is not None:
                fut.result()
        self._closed.wait(timeout)
        for t in list(self._threads):
            if t is not threading.current_thread():
                t.join(timeout)

    def _shutdown_now(self, close_connections: bool) -> None:
        if self._srv is not None:
            if close_connections:
                self._resume_all()
            _ffi.lib.wsc_server_shutdown(self._srv, 1001, 0, 0 if close_connections else 1)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()


def serve(handler: Callable[[ServerConnection], None], host: str | None = None, port: int = 0,
          **kwargs: Any) -> Server:
    """Starts a threaded server (listening when this returns). Options as wsc.serve; a blocking
    ``process_request(path, headers)`` runs in a thread of its own."""
    return Server(handler, host, port, **kwargs)


def unix_serve(handler: Callable[[ServerConnection], None], path: str, **kwargs: Any) -> Server:
    return Server(handler, unix_path=path, **kwargs)


def broadcast(connections: Iterable[Connection], message: str | bytes) -> None:
    """Sends a message to every open connection among ``connections`` without waiting: one job
    per loop thread, which skips connections that closed or are partway through a fragmented
    message."""
    op, data = encode(message)
    by_loop: dict[_LoopThread, list[Connection]] = {}
    for ws in list(connections):
        if ws._exc is None:
            by_loop.setdefault(ws._lt, []).append(ws)
    for lt, group in by_loop.items():
        lt.submit(_send_quiet, group, op, data, wait=False)


def _send_quiet(group: list[Connection], op: int, data: bytes) -> None:
    # Checked here, on the loop thread, where fragments are sent: a whole message sent between
    # two of them would become part of that message.
    for ws in group:
        if ws._conn is not None and not ws._fragmenting:
            _ffi.lib.wsc_conn_send(ws._conn, op, data, len(data), 0, _ffi.NO_SEND_CB, None)
