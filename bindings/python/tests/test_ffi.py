"""Loading libwsc and its C declarations."""

import ctypes
import os
import subprocess
import sys

import wsc
from wsc import _ffi


def test_version_and_errors_come_from_the_library():
    assert wsc.libwsc_version == _ffi.lib.wsc_version_string().decode()
    assert _ffi.err_name(_ffi.ESTATE) == "WSC_ESTATE"
    assert _ffi.err_name(_ffi.EURL) == "WSC_EURL"
    assert "state" in _ffi.strerror(_ffi.ESTATE)


def test_structures_match_the_sizes_libwsc_expects():
    # Each *_options_init refuses a size smaller than the C structure's.
    for init, cls in [(_ffi.lib.wsc_conn_options_init, _ffi.ConnOptions),
                      (_ffi.lib.wsc_client_options_init, _ffi.ClientOptions),
                      (_ffi.lib.wsc_server_options_init, _ffi.ServerOptions),
                      (_ffi.lib.wsc_deflate_options_init, _ffi.DeflateOptions)]:
        o = cls()
        assert init(ctypes.byref(o), ctypes.sizeof(o)) == 0, cls.__name__
        assert o.size == ctypes.sizeof(o), cls.__name__


def test_a_missing_library_is_a_clear_error():
    env = dict(os.environ, WSC_LIBRARY="/nonexistent/libwsc.so")
    r = subprocess.run([sys.executable, "-c", "import wsc"], env=env, capture_output=True, text=True,
                       cwd=os.path.dirname(os.path.dirname(wsc.__file__)))
    assert r.returncode != 0
    assert "libwsc not found (set WSC_LIBRARY to its path)" in r.stderr
