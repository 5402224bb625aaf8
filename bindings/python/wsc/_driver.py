"""Drives a libwsc loop from an asyncio loop, with no thread.

The wsc loop's backend descriptor is watched with ``add_reader``; when it is readable, or at the
loop's next timeout, one non-blocking pass runs (``wsc_loop_run(NOWAIT)``). Calls that queue
work (a send, a close, a new connection) ask for a pass on the next iteration (``kick``), after
which the timeout is read again. libwsc's callbacks thus run on the asyncio thread, inside that
pass: no Python code ever runs on a thread C created.
"""

from __future__ import annotations

import asyncio
import ctypes
import weakref

from . import _ffi
from ._conn import check

_drivers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Driver]" = weakref.WeakKeyDictionary()


class Driver:
    """One wsc loop per asyncio loop."""

    def __init__(self, aloop: asyncio.AbstractEventLoop):
        self.aloop = aloop
        handle = ctypes.c_void_p()
        check(_ffi.lib.wsc_loop_new(ctypes.byref(handle), None), "wsc_loop_new")
        self.loop = handle
        self.fd = _ffi.lib.wsc_loop_backend_fd(handle)
        self._kicked = False
        self._timer: asyncio.TimerHandle | None = None
        self._running = False
        aloop.add_reader(self.fd, self.run)

    def run(self) -> None:
        """One non-blocking pass, then the timer for the next deadline."""
        self._kicked = False
        if self.loop is None:
            return
        if self._running:  # a callback asked for a pass during one: it continues
            self.kick()
            return
        self._running = True
        try:
            _ffi.lib.wsc_loop_run(self.loop, _ffi.RUN_NOWAIT)
        finally:
            self._running = False
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if _ffi.lib.wsc_loop_handle_count(self.loop) == 0 and not self._kicked:
            self._free()  # nothing open: the next connection or server makes a fresh loop
            return
        t = _ffi.lib.wsc_loop_backend_timeout(self.loop)
        if t == 0:
            self.kick()
        elif t > 0:
            self._timer = self.aloop.call_later(t / 1000.0, self.run)

    def _free(self) -> None:
        self.aloop.remove_reader(self.fd)
        if _drivers.get(self.aloop) is self:
            del _drivers[self.aloop]
        _ffi.lib.wsc_loop_free(self.loop)
        self.loop = None

    def kick(self) -> None:
        """Work was queued: run a pass on the next iteration."""
        if not self._kicked:
            self._kicked = True
            self.aloop.call_soon(self.run)


def driver() -> Driver:
    aloop = asyncio.get_running_loop()
    d = _drivers.get(aloop)
    if d is None:
        d = _drivers[aloop] = Driver(aloop)
    return d


class Opener:
    """What connect() and serve() return: awaited, or used with ``async with`` (which closes)."""

    async def _open(self):
        raise NotImplementedError

    def __await__(self):
        return self._open().__await__()

    async def __aenter__(self):
        self.opened = await self._open()
        return self.opened

    async def __aexit__(self, *exc) -> None:
        await self.opened.__aexit__(*exc)
