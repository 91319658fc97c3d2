"""Each family's story, checked on a scene's labels (poses, contacts, broken joints).

``story(trace)`` returns a :class:`StoryResult`: whether the scene tells its family's story (a
collision in ``collide``, a tower that falls when it is built to fall, a glass that shatters into
15+ shards with its juice spilled, ...) and, if not, why. Samplers reject draws whose story fails
(see ``_common.draw_until``); ``benchmarks/check_stories.py`` reports the rate over many seeds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from twinsim.sim.families._common import bounding_radius
from twinsim.sim.families.trace import Trace
from twinsim.sim.graph import connected
from twinsim.sim.spec import SceneSpec

__all__ = [
    "MIN_SHARDS",
    "REST_SPEED",
    "REST_SPIN",
    "StoryResult",
    "clusters",
    "rotation",
    "story",
    "tower_falls",
    "twin_kinds",
    "upright_error",
]

REST_SPEED = 0.05  # m/s: at rest below this
REST_SPIN = 0.1  # m/s: the surface speed of its spin (angular speed x bounding radius)
MIN_SHARDS = 15


class StoryResult(NamedTuple):
    ok: bool
    reason: str = ""


def _ok() -> StoryResult:
    return StoryResult(True)


def _fail(reason: str) -> StoryResult:
    return StoryResult(False, reason)


def rotation(q: np.ndarray) -> np.ndarray:
    """(3, 3) rotation matrix of quaternion (x, y, z, w); columns are the body axes."""
    x, y, z, w = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def upright_error(shape: str, q: np.ndarray) -> float:
    """Degrees from the nearest resting pose that stands on a face (box: any face down;
    cylinder: on an end or on its side; sphere and capsule: 0)."""
    if shape in ("sphere", "capsule", "mesh"):
        return 0.0
    zc = np.abs(rotation(q)[2])  # |cos| between each body axis and the vertical
    if shape == "box":
        return float(np.degrees(np.arccos(np.clip(zc.max(), -1, 1))))
    axis = zc[2]  # cylinder: its axis is local z
    return float(min(np.degrees(np.arccos(min(axis, 1.0))), np.degrees(np.arcsin(min(axis, 1.0)))))


def _dynamic(spec: SceneSpec) -> list[int]:
    return [i for i, o in enumerate(spec.objects) if o.mass > 0 and not o.kinematic]


def _at_rest(tr: Trace, idx: list[int]) -> StoryResult:
    for i in idx:
        spin = tr.spin[-1, i] * bounding_radius(tr.spec.objects[i])
        if tr.present[-1, i] and (tr.speed[-1, i] > REST_SPEED or spin > REST_SPIN):
            return _fail(f"{tr.spec.names[i]} still moving at the end")
    return _ok()


def clusters(spec: SceneSpec, broken: dict[int, int] | set[int], names: set[str]) -> list[set]:
    """Groups of ``names`` still held together by unbroken joints."""
    links = ((j.parent, j.child) for i, j in enumerate(spec.joints) if i not in broken)
    return [set(group) for group in connected(names, links)]


def _shattered(tr: Trace, pieces: set[str]) -> StoryResult:
    spec = tr.spec
    if len(pieces) < MIN_SHARDS:
        return _fail(f"only {len(pieces)} fragments")
    groups = clusters(spec, tr.broken, pieces)
    mass = {o.name: o.mass for o in spec.objects}
    total = sum(mass[n] for n in pieces)
    biggest = max(sum(mass[n] for n in g) for g in groups)
    if len(groups) < MIN_SHARDS:
        return _fail(f"broke into {len(groups)} shards (< {MIN_SHARDS})")
    if biggest > total / 3:
        return _fail(f"largest shard keeps {biggest / total:.0%} of the glass")
    return _ok()


# -- per family --------------------------------------------------------------------------------


def _drop(tr: Trace) -> StoryResult:
    idx = _dynamic(tr.spec)
    for i in idx:
        o = tr.spec.objects[i]
        if not tr.touched(o.name, "floor"):
            return _fail(f"{o.name} never lands")
        err = upright_error(o.shape, tr.orientation[-1, i])
        if err > 8.0:
            return _fail(f"{o.name} ends balanced {err:.0f} deg off a face")
    return _at_rest(tr, idx)


def _collide(tr: Trace) -> StoryResult:
    others = [n for n in tr.spec.names if n != "body0"]
    if not any(tr.touched("body0", n) for n in others):
        return _fail("body0 hits nothing")
    return _ok()


def _ramp(tr: Trace) -> StoryResult:
    spec = tr.spec
    i = tr.index("ball")
    wall = spec.object("wall")
    r = spec.object("ball").size[0]
    v = spec.violation
    if v is not None and v.kind == "pass_through":
        # A clean pass: the ball ends fully beyond the wall, not stuck in it.
        ramp_x = spec.object("ramp").position[0]
        side = math.copysign(1.0, wall.position[0] - ramp_x)
        beyond = side * (tr.position[-1, i, 0] - wall.position[0]) - wall.size[0] - r
        if beyond < 0.0:
            return _fail(f"the ball ends {-beyond * 100:.1f} cm short of clearing the wall")
        return _ok()
    if not tr.touched("ball", "wall"):
        return _fail("the ball never reaches the wall")
    return _ok()


def _projectile(tr: Trace) -> StoryResult:
    i = tr.index("projectile")
    z = tr.position[:, i, 2]
    if z.max() - z[0] < 0.2:
        return _fail(f"apex only {z.max() - z[0]:.2f} m above the launch")
    land = tr.touch_frame("projectile", "floor")
    if land is None or land < 5:
        return _fail("no ballistic flight before landing")
    return _at_rest(tr, [i])


def _push(tr: Trace) -> StoryResult:
    i = tr.index("target")
    moved = float(np.linalg.norm(tr.position[-1, i, :2] - tr.position[0, i, :2]))
    turned = upright_error("box", tr.orientation[-1, i]) if moved < 0.1 else 0.0
    tilt = float(np.degrees(np.arccos(np.clip(abs(rotation(tr.orientation[-1, i])[2, 2]), 0, 1))))
    if moved < 0.1 and tilt < 30 and turned < 30:
        return _fail(f"the target moved only {moved * 100:.0f} cm")
    return _ok()


def tower_falls(spec: SceneSpec, margin: float = 0.01) -> bool | None:
    """Whether the stack is statically unstable: at some level the centre of mass of the blocks
    above lies outside the contact patch between that level and the next (the overlap of their
    footprints) by more than ``margin`` m. None when some level is within ``margin`` of a patch
    edge (too close to call: samplers redraw such towers)."""
    blocks = [o for o in spec.objects if o.name.startswith("block")]
    ambiguous = False
    for k in range(len(blocks) - 1):
        above = blocks[k + 1 :]
        m = sum(b.mass for b in above)
        com = sum(np.asarray(b.position[:2]) * b.mass for b in above) / m
        inner, outer = np.inf, np.inf
        for axis in (0, 1):
            for sign in (-1, 1):
                # Yawed footprints: the inscribed and circumscribed axis-aligned boxes bound the
                # true patch from inside and outside.
                lim_in, lim_out = [], []
                for b in blocks[k : k + 2]:
                    yaw = abs(2 * math.atan2(b.orientation[2], b.orientation[3]))
                    c, s_ = math.cos(yaw), math.sin(yaw)
                    a, o = b.size[axis], b.size[1 - axis]
                    lim_in.append(b.position[axis] + sign * (a * c - o * s_))
                    lim_out.append(b.position[axis] + sign * (a * c + o * s_))
                edge_in = min(lim_in) if sign > 0 else max(lim_in)
                edge_out = min(lim_out) if sign > 0 else max(lim_out)
                inner = min(inner, sign * (edge_in - com[axis]))
                outer = min(outer, sign * (edge_out - com[axis]))
        if outer < -margin:
            return True
        if inner < margin:
            ambiguous = True
    return None if ambiguous else False


def _tower(tr: Trace) -> StoryResult:
    idx = [i for i, n in enumerate(tr.spec.names) if n.startswith("block")]
    falls = tower_falls(tr.spec)
    if falls is None:
        return _fail("a level is too close to its balance point to tell")
    drop = tr.position[0, idx, 2] - tr.position[-1, idx, 2]
    shift = np.linalg.norm(tr.position[-1, idx] - tr.position[0, idx], axis=1)
    if falls:
        if drop.max() < 0.04:
            return _fail("a tower built to fall stands")
    elif shift.max() > 0.01:
        return _fail(f"a stable tower moved {shift.max() * 100:.1f} cm")
    return _at_rest(tr, idx)


def _dominoes(tr: Trace) -> StoryResult:
    for i, n in enumerate(tr.spec.names):
        tilt = float(
            np.degrees(np.arccos(np.clip(abs(rotation(tr.orientation[-1, i])[2, 2]), 0, 1)))
        )
        if tilt < 30:
            return _fail(f"{n} is still standing")
    return _ok()


def _occlusion(tr: Trace) -> StoryResult:
    i, k = tr.index("target"), tr.index("occluder")
    if np.linalg.norm(tr.position[-1, i] - tr.position[0, i]) > 0.02:
        return _fail("the target moved")
    xs, x = tr.position[:, k, 0], tr.position[0, i, 0]
    if not (xs.min() < x < xs.max()):
        return _fail("the occluder never passes the target")
    return _ok()


def _screen(tr: Trace) -> StoryResult:
    spec = tr.spec
    i = tr.index("target")
    scr = spec.object("screen")
    start, end = tr.position[0, i, 0], tr.position[-1, i, 0]
    side = math.copysign(1.0, end - start)
    half = spec.object("target").size[0]
    if side * (end - scr.position[0]) < scr.size[0] + half:
        return _fail("the target does not come out from behind the screen")
    if side * (start - scr.position[0]) > -scr.size[0] - half:
        return _fail("the target does not start beside the screen")
    return _at_rest(tr, [i])


def _containment(tr: Trace) -> StoryResult:
    spec = tr.spec
    top = spec.object("table_top")
    surface = top.position[2] + top.size[2]
    idx = [i for i, n in enumerate(spec.names) if n.startswith("body")]
    v = spec.violation
    for i in idx:
        n = spec.names[i]
        if v is not None and v.kind == "pass_through" and n == v.body:
            if tr.position[-1, i, 2] > surface:
                return _fail(f"{n} does not fall through the table top")
            continue
        if tr.position[-1, i, 2] < surface:
            return _fail(f"{n} falls off the table")
    return _at_rest(tr, idx)


def _spill(tr: Trace) -> StoryResult:
    idx = [i for i, n in enumerate(tr.spec.names) if n.startswith("ball")]
    r = tr.spec.objects[idx[0]].size[0]
    out = np.mean(tr.position[-1, idx, 2] < 2.5 * r)
    if out < 0.75:
        return _fail(f"only {out:.0%} of the balls pour out onto the floor")
    return _ok()


def _shatter(tr: Trace) -> StoryResult:
    pieces = {n for n in tr.spec.names if n == "glass_base" or n.startswith("shard")}
    return _shattered(tr, pieces)


def _glass(tr: Trace) -> StoryResult:
    res = _shatter(tr)
    if not res.ok:
        return res
    idx = [i for i, n in enumerate(tr.spec.names) if n.startswith("drop")]
    r = tr.spec.objects[idx[0]].size[0]
    end = tr.position[-1, idx]
    on_floor = float(np.mean(end[:, 2] < 3 * r))
    if on_floor < 0.6:
        return _fail(f"only {on_floor:.0%} of the juice reaches the floor")
    spread = float(np.linalg.norm(end[:, :2].std(axis=0)))
    if spread < 0.05:
        return _fail(f"the juice does not spread (sd {spread * 100:.1f} cm)")
    return _ok()


_STORIES: dict[str, Callable[[Trace], StoryResult]] = {
    "drop": _drop,
    "collide": _collide,
    "ramp": _ramp,
    "projectile": _projectile,
    "push": _push,
    "tower": _tower,
    "dominoes": _dominoes,
    "occlusion": _occlusion,
    "screen": _screen,
    "containment": _containment,
    "spill": _spill,
    "shatter": _shatter,
    "glass": _glass,
}


def story(trace: Trace, family: str | None = None) -> StoryResult:
    """Check the story of ``family`` (default ``trace.spec.family``) on the trace."""
    name = family or trace.spec.family or ""
    fn = _STORIES.get(name)
    if fn is None:
        return _fail(f"no story for family {name!r}")
    return fn(trace)


def twin_kinds(family: str) -> tuple[str, ...]:
    """Violation kinds whose impossible twin has a story of its own to check."""
    return {"ramp": ("pass_through",), "containment": ("pass_through",)}.get(family, ())
