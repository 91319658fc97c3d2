"""Renderer registry: backends chosen by name."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from twinsim.sim.errors import UnknownNameError

if TYPE_CHECKING:  # the CLI lists RENDERERS without importing numpy
    from twinsim.sim.render.base import Renderer

__all__ = ["RENDERERS", "get_renderer"]

# name -> "module:Class", imported on first use (pyrender pulls in OpenGL).
_BACKENDS = {
    "tiny": "twinsim.sim.render.tiny:TinyRenderer",
    "pyrender": "twinsim.sim.render.pyrender_backend:PyrenderRenderer",
}
RENDERERS: tuple[str, ...] = tuple(_BACKENDS)


def get_renderer(name: str) -> Renderer:
    """A new renderer instance for ``name`` (one of :data:`RENDERERS`).

    Raises:
        UnknownNameError: listing the valid renderer names.
    """
    from twinsim.sim.render.base import Renderer

    if isinstance(name, Renderer):
        return name
    if name not in _BACKENDS:
        raise UnknownNameError("renderer", name, RENDERERS)
    module, cls = _BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)()
