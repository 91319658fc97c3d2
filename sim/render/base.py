"""The renderer interface: every backend turns the world's bodies and a camera into a Frame.

Backends register by name in :mod:`twinsim.sim.render.registry` ("tiny" = PyBullet TinyRenderer, the
default, zero setup; "pyrender" = headless EGL with shading and textures).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from twinsim.sim.render.camera import CameraPose
from twinsim.sim.spec import LightSpec, WorldSpec
from twinsim.sim.world.state import BodyView  # what the world hands a renderer

__all__ = ["BodyView", "Frame", "Renderer"]


@dataclass
class Frame:
    """One rendered frame; fields not requested are None.

    rgb: (H, W, 3) uint8. depth: (H, W) float32 metres along the optical axis, ``far`` where
    nothing was hit. segmentation: (H, W) int32, 0 for background and floor, else ``seg_id``.
    """

    rgb: np.ndarray | None = None
    depth: np.ndarray | None = None
    segmentation: np.ndarray | None = None


class Renderer(ABC):
    """A rendering backend. Instances may cache GPU/GL resources; call :meth:`close` when done."""

    name: ClassVar[str]

    @abstractmethod
    def render(
        self,
        client: int,
        bodies: list[BodyView],
        camera: CameraPose,
        light: LightSpec,
        world: WorldSpec,
        *,
        rgb: bool = True,
        depth: bool = True,
        segmentation: bool = True,
    ) -> Frame:
        """Render one frame.

        Args:
            client: the PyBullet physics client id of the world (TinyRenderer draws from it;
                other backends may ignore it and draw ``bodies``).
            bodies: every spec body, in spec order, with its current pose and look.
            camera: the camera at this instant.
            light: scene light. world: for the floor (drawn when ``world.floor``).
            rgb, depth, segmentation: which buffers to produce.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (GL contexts)."""
