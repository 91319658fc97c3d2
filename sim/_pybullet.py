"""PyBullet, imported with its build banner silenced.

``import pybullet`` prints "pybullet build time: ..." on the C-level stderr, which would
precede every CLI command's output; every twinsim module imports PyBullet from here instead.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

__all__ = ["pybullet"]


def _import_quietly() -> ModuleType:
    if "pybullet" in sys.modules:
        return sys.modules["pybullet"]
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr: nothing to silence
        import pybullet

        return pybullet
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            import pybullet
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return pybullet


pybullet = _import_quietly()
