"""Rendering: backends that turn a world's bodies and a camera into labelled frames.

Modules: ``base`` (the ``Renderer`` interface and ``Frame``), ``registry`` (backends by name:
``RENDERERS``, ``get_renderer``), ``tiny`` (PyBullet TinyRenderer, the default),
``pyrender_backend`` (headless EGL, shaded and textured), ``camera`` (spec camera -> pinhole
pose per frame), ``flow`` (optical flow from known 3D motion), ``visibility`` (per-object
visible fraction, boxes, occlusion). Names below import on first use.
"""

from __future__ import annotations

from twinsim.sim._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(["BodyView", "Frame", "Renderer"], "twinsim.sim.render.base"),
    **dict.fromkeys(["RENDERERS", "get_renderer"], "twinsim.sim.render.registry"),
    **dict.fromkeys(["CameraPose", "camera_pose_at"], "twinsim.sim.render.camera"),
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
