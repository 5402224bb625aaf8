"""For the benchmark's children: notice when the driver is gone (our standard input, a pipe
from it, reaches end of file)."""
import os


def on_stdin_eof(loop, callback) -> bool:
    """Calls callback() once stdin reaches EOF (or fails). False when stdin cannot be watched
    (e.g. a terminal that is not ours to make non-blocking)."""
    def readable():
        try:
            chunk = os.read(0, 4096)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            loop.remove_reader(0)
            callback()

    try:
        os.set_blocking(0, False)
        loop.add_reader(0, readable)
    except (OSError, ValueError):
        return False
    return True
