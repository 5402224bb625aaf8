import os
import sys

# The package from this source tree (an installed one is tested by pip-installing it first).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import ctypes

import pytest


@pytest.fixture(autouse=True, scope="session")
def libuv_process_state():
    """libuv's first loop opens a process-wide pipe (its signal lock) that stays open: make it
    exist before any test counts the process's descriptors."""
    from wsc import _ffi
    loop = ctypes.c_void_p()
    assert _ffi.lib.wsc_loop_new(ctypes.byref(loop), None) == 0
    assert _ffi.lib.wsc_loop_free(loop) == 0
    yield
