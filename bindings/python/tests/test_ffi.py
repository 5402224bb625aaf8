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
                      (_ffi.lib.wsc_deflate_options_init, _ffi.DeflateOptions),
                      (_ffi.lib.wsc_tls_options_init, _ffi.TlsOptions)]:
        o = cls()
        assert init(ctypes.byref(o), ctypes.sizeof(o)) == 0, cls.__name__
        assert o.size == ctypes.sizeof(o), cls.__name__


def test_a_missing_library_is_a_clear_error():
    env = dict(os.environ, WSC_LIBRARY="/nonexistent/libwsc.so")
    r = subprocess.run([sys.executable, "-c", "import wsc"], env=env, capture_output=True, text=True,
                       cwd=os.path.dirname(os.path.dirname(wsc.__file__)))
    assert r.returncode != 0
    assert "libwsc not found (set WSC_LIBRARY to its path)" in r.stderr


def test_an_older_size_is_refused_by_the_library():
    o = _ffi.ConnOptions()
    assert _ffi.lib.wsc_conn_options_init(ctypes.byref(o), 4) < 0


def test_pip_install_works_offline_and_the_installed_package_finds_libwsc(tmp_path):
    source = os.path.dirname(os.path.dirname(os.path.abspath(wsc.__file__)))
    env = dict(os.environ, WSC_LIBWSC_DIR=os.path.dirname(_ffi.path))
    env.pop("WSC_LIBRARY", None)
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation",
                        "--target", str(tmp_path / "site"), source], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    # From elsewhere, with no hint: the library bundled beside the package is the one loaded.
    env = {k: v for k, v in os.environ.items() if k not in ("WSC_LIBRARY", "PYTHONPATH")}
    env["PYTHONPATH"] = str(tmp_path / "site")
    r = subprocess.run([sys.executable, "-c", "import wsc, wsc.sync; print(wsc._ffi.path); print(wsc.libwsc_version)"],
                       env=env, capture_output=True, text=True, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    path, version = r.stdout.split()
    assert path == str(tmp_path / "site" / "wsc" / "libwsc.so")
    assert version == wsc.libwsc_version
