"""What a scene spec may hold: the names (shapes, violation kinds, ...), the numeric limits
and the validators every spec dataclass calls (each raises :class:`SpecError` naming the field)."""

from __future__ import annotations

import math
from typing import Literal, get_args

from twinsim.sim.errors import SpecError
from twinsim.sim.errors import require as _check

__all__ = [
    "COLLISIONS",
    "EVENT_KINDS",
    "GROUP_KINDS",
    "IMAGE_SIDE",
    "MASS_RANGE",
    "MAX_COORD",
    "MAX_FAR",
    "MAX_FRAMES",
    "MAX_GRAVITY",
    "MAX_OBJECTS",
    "MAX_PIXELS",
    "MAX_PUSH",
    "MAX_SPEED",
    "MAX_SPIN",
    "MAX_TIME",
    "MIN_NEAR",
    "SHAPES",
    "SIZE_LEN",
    "SIZE_RANGE",
    "VIOLATIONS",
    "Collision",
    "Color",
    "EventKind",
    "Quat",
    "Shape",
    "Vec3",
    "ViolationKind",
    "bounded",
    "check_color",
    "direction_norm",
    "finite",
    "in_range",
    "unit_quat",
]

Shape = Literal["sphere", "box", "cylinder", "capsule", "mesh"]
SHAPES: tuple[str, ...] = get_args(Shape)
Collision = Literal["convex_hull", "vhacd"]
COLLISIONS: tuple[str, ...] = get_args(Collision)
EventKind = Literal["force", "impulse"]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
ViolationKind = Literal[
    "vanish",
    "appear",
    "teleport",
    "change_shape",
    "change_color",
    "pass_through",
    "no_shatter",
    "liquid_stays",
    "reassemble",
    "shards_vanish",
]
VIOLATIONS: tuple[str, ...] = get_args(ViolationKind)

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
Color = tuple[float, float, float, float]

GROUP_KINDS = ("liquid_stays", "reassemble", "shards_vanish")
SIZE_LEN = {"sphere": (1,), "box": (3,), "cylinder": (2,), "capsule": (2,), "mesh": (1, 3)}
MAX_OBJECTS = 512
IMAGE_SIDE = (1, 4096)  # bounds of a camera's width and height, pixels
MAX_PIXELS = IMAGE_SIDE[1] ** 2
MAX_FRAMES = 100_000
MAX_COORD = 1e4  # m
MAX_TIME = 1e5  # s
SIZE_RANGE = (1e-5, 1e3)  # m (glass shards are sub-millimetre thin at their edges)
MASS_RANGE = (1e-5, 1e5)  # kg (0 = static); drops of liquid weigh ~0.3 g
MAX_SPEED = 1e3  # m/s
MAX_SPIN = 1e4  # rad/s
MAX_GRAVITY = 1e3  # m/s^2
MAX_PUSH = 1e6  # N or N s
MAX_FAR = 1e5  # m
MIN_NEAR = 1e-4  # m


def finite(path: str, values: tuple[float, ...]) -> None:
    if not all(math.isfinite(v) for v in values):
        raise SpecError(path, values, "all components must be finite numbers")


def bounded(path: str, values: tuple[float, ...], limit: float, unit: str) -> None:
    finite(path, values)
    _check(all(abs(v) <= limit for v in values), path, values, f"|each| <= {limit:g} {unit}")


def in_range(path: str, value: float, lo: float, hi: float, unit: str = "") -> None:
    _check(lo <= value <= hi, path, value, f"must lie in [{lo:g}, {hi:g}]{unit}")


def direction_norm(path: str, v: Vec3) -> float:
    """Norm of a direction vector, which must be finite and non-zero (normalisable)."""
    bounded(path, v, 1e6, "(a direction)")
    norm = math.sqrt(sum(c * c for c in v))
    _check(norm > 1e-9, path, v, "must be a non-zero direction vector")
    return norm


def unit_quat(path: str, q: Quat) -> None:
    finite(path, q)
    norm = math.sqrt(sum(c * c for c in q))
    _check(abs(norm - 1.0) < 1e-3, path, q, "must be a unit quaternion (x, y, z, w), norm 1")


def check_color(path: str, c: tuple[float, ...]) -> None:
    _check(all(0.0 <= v <= 1.0 for v in c), path, c, "colour components must lie in [0, 1]")
