"""The exception tree, shaped like python-websockets'.

WscError
├── ConnectionClosed (rcvd_code, rcvd_reason: the close the peer sent, if any)
│   ├── ConnectionClosedOK     (1000 or 1001 both ways)
│   └── ConnectionClosedError
├── InvalidHandshake
│   ├── InvalidStatus (status, headers, body)
│   └── InvalidURI
└── PayloadTooBig
"""

from __future__ import annotations


class WscError(Exception):
    """Base class. ``code`` and ``name`` are libwsc's error (0 and "" when none applies)."""

    def __init__(self, message: str = "", code: int = 0, name: str = ""):
        super().__init__(message)
        self.code = code
        self.name = name


class ConnectionClosed(WscError):
    """The connection is closed: the code and reason the peer sent (1006 and "" when none came),
    whether the closing handshake completed, and libwsc's error when the connection failed."""

    def __init__(self, code: int, reason: str, was_clean: bool, error: int = 0, error_name: str = ""):
        self.rcvd_code = code
        self.rcvd_reason = reason
        self.was_clean = was_clean
        text = f"received {code} ({reason})" if reason else f"received {code}"
        if code == 1006:
            text = "no close frame received or sent"
        super().__init__(text, error, error_name)


class ConnectionClosedOK(ConnectionClosed):
    """Closed cleanly with 1000 (normal) or 1001 (going away)."""


class ConnectionClosedError(ConnectionClosed):
    """Closed with an error code, or without a closing handshake."""


class InvalidHandshake(WscError):
    """The opening handshake failed."""


class InvalidStatus(InvalidHandshake):
    """The server answered the upgrade request with another status than 101."""

    def __init__(self, status: int, headers: list, body: bytes):
        super().__init__(f"server rejected WebSocket connection: HTTP {status}")
        self.status = status
        self.headers = headers
        self.body = body


class InvalidURI(InvalidHandshake):
    """The address is not a ws://, wss:// or ws+unix:// URI."""

    def __init__(self, uri: str, msg: str):
        super().__init__(f"{uri} isn't a valid URI: {msg}")
        self.uri = uri


class PayloadTooBig(WscError):
    """A message is larger than max_size."""


def closed(code: int, reason: str, was_clean: bool, error: int = 0, error_name: str = "") -> ConnectionClosed:
    cls = ConnectionClosedOK if was_clean and code in (1000, 1001, 1005) else ConnectionClosedError
    return cls(code, reason, was_clean, error, error_name)
