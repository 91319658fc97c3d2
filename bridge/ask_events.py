"""Read events from an engine rollout's labels: first contacts, bounces, landings, rest, falls.

Every number the answers quote comes from here, computed from the rollout's object tracks
(positions, velocities) and contact events; each function also returns the evidence (frames,
times, values) the number rests on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from twinsim.sim import Rollout

__all__ = [
    "REST_SPEED",
    "Bounce",
    "ContactEvent",
    "bounce",
    "contact_frames",
    "first_contact",
    "object_summary",
    "rest_frame",
    "tower_fall",
]

REST_SPEED = 0.05  # m/s: a body slower than this from some frame on is at rest


@dataclass(frozen=True)
class ContactEvent:
    """The first frame at which ``a`` touches ``b`` (``b`` may be "floor" or None for anything)."""

    a: str
    b: str
    frame: int
    time: float
    position: tuple[float, float, float]  # centre of ``a`` at that frame

    def to_dict(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "frame": self.frame,
            "time_s": round(self.time, 3),
            "position_m": [round(v, 3) for v in self.position],
        }


@dataclass(frozen=True)
class Bounce:
    """A rebound after the contact at ``contact_frame``: apex frame and rise of the centre (m)."""

    contact_frame: int
    apex_frame: int
    rise: float
    apex_height: float  # centre height at the apex, m above the floor

    def to_dict(self) -> dict:
        return {
            "contact_frame": self.contact_frame,
            "apex_frame": self.apex_frame,
            "rise_m": round(self.rise, 3),
            "apex_centre_height_m": round(self.apex_height, 3),
        }


def contact_frames(rollout: Rollout, a: str, b: str | None = None) -> list[int]:
    """Sorted frames with a contact between ``a`` and ``b`` ("floor", a body, or None: any)."""
    frames = set()
    for c in rollout.contacts:
        if a not in (c.a, c.b):
            continue
        other = c.b if c.a == a else c.a
        if b is None or other == b:
            frames.add(c.frame)
    return sorted(frames)


def first_contact(rollout: Rollout, a: str, b: str | None = None) -> ContactEvent | None:
    """The first contact of ``a`` with ``b`` (None: with anything), or None if they never touch."""
    for c in sorted(rollout.contacts, key=lambda c: c.frame):
        if a not in (c.a, c.b):
            continue
        other = c.b if c.a == a else c.a
        if b is None or other == b:
            pos = rollout.track(a).position[c.frame]
            return ContactEvent(a, other, c.frame, float(rollout.times[c.frame]), tuple(pos))
    return None


def bounce(rollout: Rollout, name: str, after: int) -> Bounce | None:
    """The rebound of ``name`` after its contact at frame ``after``: None if it never leaves
    contact again (no bounce)."""
    touching = set(contact_frames(rollout, name))
    z = rollout.track(name).position[:, 2]
    frames = range(after + 1, rollout.num_frames)
    free = next((f for f in frames if f not in touching), None)
    if free is None:
        return None
    back = next((f for f in range(free, rollout.num_frames) if f in touching), rollout.num_frames)
    window = np.arange(free, back)
    apex = int(window[np.argmax(z[window])])
    rise = float(z[apex] - z[after])
    if rise <= 0.002:  # a graze, not a bounce
        return None
    return Bounce(after, apex, rise, float(z[apex]))


def rest_frame(rollout: Rollout, name: str) -> int | None:
    """The first frame from which ``name`` stays slower than :data:`REST_SPEED` (None: never)."""
    track = rollout.track(name)
    speed = np.linalg.norm(track.linear_velocity, axis=1)
    moving = np.nonzero(speed >= REST_SPEED)[0]
    if len(moving) == 0:
        return 0
    last = int(moving[-1])
    return last + 1 if last + 1 < rollout.num_frames else None


def tower_fall(rollout: Rollout, names: list[str]) -> dict:
    """Did a stack fall? Compares each block's first and last pose.

    The tower fell when its top block ends more than half a block height lower than it started
    (it toppled or slid off), or when any block moved sideways more than its half width.
    """
    spec = rollout.spec
    moved, start_frame = [], None
    for name in names:
        pos = rollout.track(name).position
        shift = np.linalg.norm(pos - pos[0], axis=1)
        first = np.nonzero(shift > 0.01)[0]
        if len(first):
            start_frame = int(first[0]) if start_frame is None else min(start_frame, int(first[0]))
        moved.append(float(shift[-1]))
    top = rollout.track(names[-1]).position
    top_obj = spec.object(names[-1])
    half_h = top_obj.size[2] if top_obj.shape == "box" else top_obj.size[-1] / 2
    half_w = top_obj.size[0]
    drop = float(top[0, 2] - top[-1, 2])
    fell = drop > half_h or max(moved) > half_w
    return {
        "fell": bool(fell),
        "top_block": names[-1],
        "top_start_height_m": round(float(top[0, 2]), 3),
        "top_end_height_m": round(float(top[-1, 2]), 3),
        "top_drop_m": round(drop, 3),
        "largest_displacement_m": round(max(moved), 3),
        "blocks_moved_over_1cm": int(sum(m > 0.01 for m in moved)),
        "first_motion_frame": start_frame,
        "first_motion_time_s": None
        if start_frame is None
        else round(float(rollout.times[start_frame]), 3),
    }


def object_summary(rollout: Rollout) -> dict[str, dict[str, Any]]:
    """Per object of ``rollout``: start and end position (m), first contact (when the contacts
    label is there) and the frame it comes to rest, as JSON-able values."""
    out = {}
    for track in rollout.objects:
        c = first_contact(rollout, track.name) if "contacts" in rollout.labels else None
        out[track.name] = {
            "start_m": _round(track.position[0]),
            "end_m": _round(track.position[-1]),
            "first_contact": None if c is None else c.to_dict(),
            "rest_frame": rest_frame(rollout, track.name),
        }
    return out


def _round(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return round(float(v), 4)
    if isinstance(v, list | tuple | np.ndarray):
        return [_round(x) for x in v]
    return v
