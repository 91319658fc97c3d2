"""The whole scene: bodies, joints, events, cameras, light, world and an optional violation;
versioned and exactly round-tripped through JSON."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from twinsim.sim.codec import check_fields, decode, to_plain
from twinsim.sim.errors import SpecError, UnknownNameError
from twinsim.sim.errors import require as _check
from twinsim.sim.spec.body import EventSpec, JointSpec, ObjectSpec
from twinsim.sim.spec.limits import IMAGE_SIDE, MAX_OBJECTS
from twinsim.sim.spec.view import CameraSpec, LightSpec
from twinsim.sim.spec.violation import Violation
from twinsim.sim.spec.world import WorldSpec

SPEC_VERSION = 1

__all__ = ["SPEC_VERSION", "SceneSpec", "with_image_size"]


@dataclass(frozen=True)
class SceneSpec:
    """A complete, reproducible scene: bodies, joints, scripted events, cameras, light, world."""

    objects: tuple[ObjectSpec, ...]
    cameras: tuple[CameraSpec, ...] = (CameraSpec(),)
    light: LightSpec = field(default_factory=LightSpec)
    world: WorldSpec = field(default_factory=WorldSpec)
    joints: tuple[JointSpec, ...] = ()
    events: tuple[EventSpec, ...] = ()
    violation: Violation | None = None
    family: str | None = None
    seed: int = 0
    version: int = SPEC_VERSION

    def __post_init__(self) -> None:
        check_fields(self)
        _check(
            self.version == SPEC_VERSION,
            "version",
            self.version,
            f"this twinsim reads spec version {SPEC_VERSION}",
        )
        _check(len(self.objects) <= MAX_OBJECTS, "objects", len(self.objects), "too many bodies")
        _check(len(self.cameras) >= 1, "cameras", self.cameras, "need at least one camera")
        names = [o.name for o in self.objects]
        dup = sorted({n for n in names if names.count(n) > 1})
        _check(not dup, "objects", dup, "object names must be unique")
        cams = [c.name for c in self.cameras]
        _check(len(set(cams)) == len(cams), "cameras", cams, "camera names must be unique")
        known = set(names)
        for i, j in enumerate(self.joints):
            for role in ("parent", "child"):
                if getattr(j, role) not in known:
                    raise SpecError(
                        f"joints[{i}].{role}",
                        getattr(j, role),
                        f"must name a body: {sorted(known)}",
                    )
        for i, e in enumerate(self.events):
            if e.body not in known:
                raise SpecError(f"events[{i}].body", e.body, f"must name a body: {sorted(known)}")
        v = self.violation
        if v is not None:
            if v.body not in known:
                raise SpecError("violation.body", v.body, f"must name a body: {sorted(known)}")
            if v.other is not None and v.other not in known:
                raise SpecError("violation.other", v.other, f"must name a body: {sorted(known)}")
            for i, g in enumerate(v.group):
                if g not in known:
                    raise SpecError(f"violation.group[{i}]", g, "must name a body of the scene")
            _check(
                v.frame < self.world.num_frames,
                "violation.frame",
                v.frame,
                f"must be < the scene's {self.world.num_frames} frames",
            )
        _check(0 <= self.seed < 2**63, "seed", self.seed, "must be an integer in [0, 2**63)")

    # -- convenience -------------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        """Object names in spec order; segmentation id ``i + 1`` is ``names[i]``."""
        return tuple(o.name for o in self.objects)

    def object(self, name: str) -> ObjectSpec:
        """The object called ``name``; raises UnknownNameError listing the valid names."""
        for o in self.objects:
            if o.name == name:
                return o
        raise UnknownNameError("body", name, self.names)

    def possible_twin(self) -> SceneSpec:
        """The physically possible scene this one is the impossible twin of (itself if possible).

        For ``appear`` the possible twin has no such body at all, so both scenes agree on every
        frame before the violation.
        """
        v = self.violation
        if v is None:
            return self
        if v.kind != "appear":
            return dataclasses.replace(self, violation=None)
        return dataclasses.replace(
            self,
            violation=None,
            objects=tuple(o for o in self.objects if o.name != v.body),
            joints=tuple(j for j in self.joints if v.body not in (j.parent, j.child)),
            events=tuple(e for e in self.events if e.body != v.body),
        )

    # -- JSON --------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return to_plain(self)

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise to JSON; ``SceneSpec.from_json(s.to_json()) == s``."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Any) -> SceneSpec:
        """Build and validate from a plain dict; errors name the field path."""
        return decode(cls, data, "spec")

    @classmethod
    def from_json(cls, text: str) -> SceneSpec:
        """Parse and validate JSON text; raises SpecError naming the bad field."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError("spec", text[:40], f"must be valid JSON ({exc})") from None
        return cls.from_dict(data)


def with_image_size(spec: SceneSpec, size: int, *, field: str = "size") -> SceneSpec:
    """``spec`` with every camera ``size`` x ``size`` pixels.

    Raises:
        SpecError: naming ``field`` when ``size`` is not an integer in :data:`IMAGE_SIDE`.
    """
    lo, hi = IMAGE_SIDE
    ok = isinstance(size, int) and not isinstance(size, bool) and lo <= size <= hi
    _check(ok, field, size, f"must be an integer pixel count in [{lo}, {hi}]")
    cams = tuple(dataclasses.replace(c, width=size, height=size) for c in spec.cameras)
    return dataclasses.replace(spec, cameras=cams)
