"""wsc: WebSocket client and server for asyncio, over libwsc (ctypes, C API only)."""

from . import _ffi
from .client import ClientConnection, connect
from .connection import Connection
from .exceptions import (ConnectionClosed, ConnectionClosedError, ConnectionClosedOK, InvalidHandshake,
                         InvalidStatus, InvalidURI, PayloadTooBig, WscError)
from .server import Server, ServerConnection, serve

__version__ = "0.1.0"
libwsc_version = _ffi.version_string

__all__ = ["connect", "serve", "Connection", "ClientConnection", "ServerConnection", "Server", "WscError",
           "ConnectionClosed", "ConnectionClosedOK", "ConnectionClosedError", "InvalidHandshake",
           "InvalidStatus", "InvalidURI", "PayloadTooBig", "libwsc_version"]
