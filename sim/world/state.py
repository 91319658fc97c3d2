"""Value types of the World's state: read-outs, python-side state and snapshot tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

from twinsim.sim.spec import ObjectSpec

__all__ = ["BodyState", "BodyView", "PyState", "Token", "WorldState"]


@dataclass(frozen=True)
class BodyState:
    """One body at one instant (world frame, SI units; orientation quaternion x, y, z, w)."""

    name: str
    position: tuple[float, float, float]
    orientation: tuple[float, float, float, float]
    linear_velocity: tuple[float, float, float]
    angular_velocity: tuple[float, float, float]
    present: bool


@dataclass(frozen=True)
class WorldState:
    """Full read-out: time (s), physics step, frame, bodies by name, broken joints -> step."""

    time: float
    step: int
    frame: int
    bodies: dict[str, BodyState]
    broken_joints: dict[int, int]


@dataclass
class PyState:
    """Python-side state that PyBullet's saveState does not cover (copied by save_state)."""

    step: int = 0
    looks: dict[str, ObjectSpec] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)  # absent: invisible, no collisions, parked
    ghost: dict[str, tuple] = field(default_factory=dict)  # hidden name -> (pos, orn) reported
    parked: set[int] = field(default_factory=set)  # uids held at the parking spot
    active: dict[str, int] = field(default_factory=dict)  # name -> uid currently standing for it
    broken: dict[int, int] = field(default_factory=dict)  # joint index -> step it broke
    cracked: set[str] = field(default_factory=set)  # bodies that lost a break_force joint
    held: dict[str, tuple] = field(default_factory=dict)  # liquid_stays: name -> frame in glass
    violated: bool = False
    pending: list[list] = field(default_factory=list)  # [name, force, point, steps left]
    num_contacts: int = 0


@dataclass(frozen=True)
class Token:
    world: int
    bullet_state: int
    py: PyState


@dataclass(frozen=True)
class BodyView:
    """What a renderer needs of one body at one instant.

    Attributes:
        seg_id: segmentation id (``spec.objects`` index + 1).
        spec: the body's current look (shape, size, colour, mesh, texture); after a
            change_shape / change_color violation it is the changed one.
        position: (3,) world position of the centre of mass, metres.
        orientation: quaternion (x, y, z, w).
        visible: False while the body is absent (vanished, not yet appeared): not drawn.
    """

    seg_id: int
    spec: ObjectSpec
    position: tuple[float, float, float]
    orientation: tuple[float, float, float, float]
    visible: bool = True
