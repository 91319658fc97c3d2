"""Labelled breaks of physics: what turns a possible scene into its impossible twin."""

from __future__ import annotations

from dataclasses import dataclass

from twinsim.sim.codec import check_fields
from twinsim.sim.errors import UnknownNameError
from twinsim.sim.errors import require as _check
from twinsim.sim.spec.limits import (
    GROUP_KINDS,
    MAX_COORD,
    SHAPES,
    SIZE_LEN,
    SIZE_RANGE,
    VIOLATIONS,
    Color,
    Shape,
    Vec3,
    ViolationKind,
    bounded,
    check_color,
)

__all__ = ["Violation"]


@dataclass(frozen=True)
class Violation:
    """A labelled break of physics from ``frame`` on (the impossible twin of a possible scene).

    Kinds:
        vanish: ``body`` disappears (invisible, no collisions) from ``frame`` on.
        appear: ``body`` is absent before ``frame`` and present from it on; its possible twin has
            no such body at all (IntPhys' reversed vanish).
        teleport: ``body`` jumps by ``offset`` (m) at ``frame``.
        change_shape: ``body`` becomes ``new_shape`` of ``new_size`` at ``frame``.
        change_color: ``body`` takes ``new_color`` at ``frame``.
        pass_through: ``body`` stops colliding with ``other`` at ``frame``.
        no_shatter: from ``frame`` on, no breakable joint breaks (the glass lands intact).
        liquid_stays: from ``frame`` on, every body of ``group`` (the liquid) is held at its pose
            relative to ``body`` (the glass), so nothing pours out of an overturned glass.
        reassemble: at ``frame`` every body of ``group`` (the shards) jumps back to its initial
            pose relative to ``body`` and the broken joints hold again (the glass is whole).
        shards_vanish: ``body`` and every body of ``group`` (the shards) disappear at ``frame``
            (like ``vanish``).
    """

    kind: ViolationKind
    body: str
    frame: int
    offset: Vec3 = (0.0, 0.0, 0.0)
    new_shape: Shape | None = None
    new_size: tuple[float, ...] = ()
    new_color: Color | None = None
    other: str | None = None
    group: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_fields(self)
        if self.kind not in VIOLATIONS:
            raise UnknownNameError("violation", self.kind, VIOLATIONS)
        bounded("offset", self.offset, MAX_COORD, "m")
        lo, hi = SIZE_RANGE
        _check(
            all(lo <= s <= hi for s in self.new_size),
            "new_size",
            self.new_size,
            f"each in [{lo}, {hi}] m",
        )
        _check(self.frame >= 1, "frame", self.frame, "must be >= 1 (frame 0 is always possible)")
        if self.kind == "teleport":
            _check(any(self.offset), "offset", self.offset, "a teleport needs a non-zero offset")
        if self.kind == "change_shape":
            _check(self.new_shape in SHAPES, "new_shape", self.new_shape, f"one of {SHAPES}")
            _check(
                len(self.new_size) in SIZE_LEN[self.new_shape or "sphere"],
                "new_size",
                self.new_size,
                "must match new_shape",
            )
        if self.kind == "change_color":
            _check(self.new_color is not None, "new_color", None, "change_color needs a colour")
            check_color("new_color", self.new_color or (0, 0, 0, 0))
        if self.kind == "pass_through":
            _check(bool(self.other), "other", self.other, "pass_through needs the solid's name")
        if self.kind in GROUP_KINDS:
            _check(bool(self.group), "group", self.group, f"{self.kind} needs the bodies it moves")
            _check(self.body not in self.group, "group", self.group, "must not hold ``body``")
