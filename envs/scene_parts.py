"""ObjectSpec builders shared by the tasks (one place for sizes, masses and colours)."""

from __future__ import annotations

from collections.abc import Sequence

from twinsim.sim import ObjectSpec

__all__ = ["PUCK_HEIGHT", "PUCK_RADIUS", "block", "puck", "target_disc"]

PUCK_RADIUS = 0.045
PUCK_HEIGHT = 0.06
BLUE = (0.15, 0.35, 0.9, 1.0)
RED = (0.85, 0.2, 0.15, 1.0)
GREEN = (0.1, 0.75, 0.25, 1.0)


def _xy(v: Sequence[float]) -> tuple[float, float]:
    return float(v[0]), float(v[1])


def puck(name: str, xy: Sequence[float], color=BLUE) -> ObjectSpec:
    """The agent: a heavy, low-friction cylinder sliding on the floor (velocity-controlled)."""
    return ObjectSpec(
        name=name,
        shape="cylinder",
        size=(PUCK_RADIUS, PUCK_HEIGHT),
        mass=2.0,
        friction=0.05,
        restitution=0.0,
        color=color,
        position=(*_xy(xy), PUCK_HEIGHT / 2),
    )


def block(name: str, xy: Sequence[float], half: float, mass: float, z: float | None = None,
          color=RED) -> ObjectSpec:  # fmt: skip
    """A cube of half-size ``half`` resting on the floor (or at height ``z``)."""
    return ObjectSpec(
        name=name,
        shape="box",
        size=(half, half, half),
        mass=mass,
        friction=0.5,
        restitution=0.0,
        color=color,
        position=(*_xy(xy), half if z is None else z),
    )


def target_disc(name: str, xy: Sequence[float], radius: float = 0.08) -> ObjectSpec:
    """A static marker disc sunk into the floor: its top sits 0.5 mm above z = 0, so bodies slide
    over it (a scene spec has no visual-only bodies)."""
    return ObjectSpec(
        name=name,
        shape="cylinder",
        size=(radius, 0.01),
        mass=0.0,
        color=GREEN,
        position=(*_xy(xy), -0.0045),
    )
