"""How a scene is seen: cameras (with keyframed paths) and the light."""

from __future__ import annotations

from dataclasses import dataclass

from twinsim.sim.codec import check_fields
from twinsim.sim.errors import require as _check
from twinsim.sim.spec.limits import (
    IMAGE_SIDE,
    MAX_COORD,
    MAX_FAR,
    MAX_PIXELS,
    MAX_TIME,
    MIN_NEAR,
    Vec3,
    bounded,
    check_color,
    direction_norm,
    in_range,
)

__all__ = ["CameraKeyframe", "CameraSpec", "LightSpec"]


@dataclass(frozen=True)
class CameraKeyframe:
    """Camera eye and target at ``time`` (linear interpolation between keyframes)."""

    time: float
    eye: Vec3
    target: Vec3

    def __post_init__(self) -> None:
        check_fields(self)
        in_range("time", self.time, 0, MAX_TIME, " s")
        bounded("eye", self.eye, MAX_COORD, "m")
        bounded("target", self.target, MAX_COORD, "m")
        _check(self.eye != self.target, "target", self.target, "must differ from eye")


@dataclass(frozen=True)
class CameraSpec:
    """A pinhole camera looking from ``eye`` at ``target``; ``fov`` is the vertical angle (deg)."""

    name: str = "main"
    width: int = 64
    height: int = 64
    fov: float = 60.0
    eye: Vec3 = (0.0, -3.0, 1.5)
    target: Vec3 = (0.0, 0.0, 0.4)
    up: Vec3 = (0.0, 0.0, 1.0)
    near: float = 0.05
    far: float = 20.0
    path: tuple[CameraKeyframe, ...] = ()

    def __post_init__(self) -> None:
        check_fields(self)
        lo, hi = IMAGE_SIDE
        for f in ("width", "height"):
            v = getattr(self, f)
            _check(lo <= v <= hi, f, v, f"must be an integer pixel count in [{lo}, {hi}]")
        _check(self.width * self.height <= MAX_PIXELS, "width", self.width, "image too large")
        _check(1.0 <= self.fov <= 170.0, "fov", self.fov, "must lie in [1, 170] degrees")
        bounded("eye", self.eye, MAX_COORD, "m")
        bounded("target", self.target, MAX_COORD, "m")
        _check(self.eye != self.target, "target", self.target, "must differ from eye")
        _check(
            MIN_NEAR <= self.near < self.far, "near", self.near, f"need {MIN_NEAR:g} <= near < far"
        )
        _check(self.far <= MAX_FAR, "far", self.far, f"must be <= {MAX_FAR:g} m")
        direction_norm("up", self.up)  # parallel to the view is fine: look_at picks a perpendicular
        times = [k.time for k in self.path]
        _check(times == sorted(times), "path", times, "keyframe times must be non-decreasing")


@dataclass(frozen=True)
class LightSpec:
    """One directional light plus ambient term (both renderers use it)."""

    direction: Vec3 = (0.4, -0.5, 1.0)
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    ambient: float = 0.5
    diffuse: float = 0.6
    specular: float = 0.1
    shadows: bool = True

    def __post_init__(self) -> None:
        check_fields(self)
        direction_norm("direction", self.direction)
        check_color("color", self.color)
        for f in ("ambient", "diffuse", "specular"):
            v = getattr(self, f)
            _check(0 <= v <= 1, f, v, "must lie in [0, 1]")
