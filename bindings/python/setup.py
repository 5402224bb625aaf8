"""Bundles libwsc.so into the package when one is at hand, so an installed wsc finds it beside
itself: $WSC_LIBWSC_DIR/libwsc.so, else the source tree's build/libwsc.so. Without one, the
package looks for libwsc on the system's library path at import (a distro's libwsc)."""

import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class build_py_with_libwsc(build_py):
    def run(self):
        super().run()
        here = Path(__file__).resolve().parent
        candidates = [Path(os.environ["WSC_LIBWSC_DIR"]) / "libwsc.so"] if os.environ.get("WSC_LIBWSC_DIR") else []
        candidates.append(here.parent.parent / "build" / "libwsc.so")
        for lib in candidates:
            if lib.exists():
                target = Path(self.build_lib) / "wsc" / "libwsc.so"
                shutil.copyfile(lib.resolve(), target)
                self.announce(f"bundled {lib.resolve()} as {target}", level=2)
                break


setup(cmdclass={"build_py": build_py_with_libwsc})
