"""Physics and timing of a scene: gravity, time step, frame rate, duration and the floor."""

from __future__ import annotations

import math
from dataclasses import dataclass

from twinsim.sim.codec import check_fields
from twinsim.sim.errors import require as _check
from twinsim.sim.spec.limits import (
    MAX_FRAMES,
    MAX_GRAVITY,
    MAX_TIME,
    Color,
    Vec3,
    bounded,
    check_color,
    in_range,
)

__all__ = ["WorldSpec"]


@dataclass(frozen=True)
class WorldSpec:
    """Physics and timing. Each frame advances ``1 / fps`` s in ``timestep``-sized physics steps.

    ``floor_rolling_friction`` (m) and ``floor_spinning_friction`` are Bullet's rolling and
    spinning resistance of the floor, combined with each body's friction (see docs/families.md
    for why the defaults are what they are).
    """

    gravity: Vec3 = (0.0, 0.0, -9.81)
    timestep: float = 1.0 / 240.0
    substeps: int = 1
    fps: float = 24.0
    duration: float = 2.0
    floor: bool = True
    floor_color: Color = (0.85, 0.85, 0.8, 1.0)
    floor_friction: float = 0.6
    floor_restitution: float = 0.3
    floor_rolling_friction: float = 0.01
    floor_spinning_friction: float = 0.01

    def __post_init__(self) -> None:
        check_fields(self)
        bounded("gravity", self.gravity, MAX_GRAVITY, "m/s^2")
        for f in ("floor_friction", "floor_rolling_friction", "floor_spinning_friction"):
            v = getattr(self, f)
            _check(0 <= v <= 10 and math.isfinite(v), f, v, "must lie in [0, 10]")
        _check(
            0 <= self.floor_restitution <= 1,
            "floor_restitution",
            self.floor_restitution,
            "must lie in [0, 1]",
        )
        _check(1e-5 <= self.timestep <= 0.1, "timestep", self.timestep, "must lie in [1e-5, 0.1] s")
        _check(1 <= self.substeps <= 100, "substeps", self.substeps, "must lie in [1, 100]")
        _check(0 < self.fps <= 1000, "fps", self.fps, "must lie in (0, 1000]")
        ratio = 1.0 / (self.fps * self.timestep)
        _check(
            abs(ratio - round(ratio)) < 1e-6 and round(ratio) >= 1,
            "fps",
            self.fps,
            f"1/fps must be a whole multiple of timestep={self.timestep} "
            f"(e.g. fps={1 / (self.timestep * max(1, round(ratio))):g})",
        )
        _check(0 < self.duration <= MAX_TIME, "duration", self.duration, f"in (0, {MAX_TIME:g}] s")
        _check(
            self.duration * self.fps <= MAX_FRAMES,
            "duration",
            self.duration,
            f"too many frames; at most {MAX_FRAMES} frames per scene",
        )
        check_color("floor_color", self.floor_color)
        in_range("floor_friction", self.floor_friction, 0, 10)
        in_range("floor_restitution", self.floor_restitution, 0, 1)

    @property
    def steps_per_frame(self) -> int:
        """Physics steps between consecutive frames."""
        return round(1.0 / (self.fps * self.timestep))

    @property
    def num_frames(self) -> int:
        """Rendered frames, including frame 0 at t = 0."""
        return round(self.duration * self.fps) + 1
