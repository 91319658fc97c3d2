"""Bodies an estimate found at rest, settled under gravity before the engine plays the future.

A fit a few millimetres off leaves a resting body hovering, sunk into the floor or into its
neighbour; played as estimated, the engine spends the first predicted frames resolving that (a
bar leaning on a box drops a centimetre, two boxes fitted into each other fly apart), and the
composite draws it: on nearly still push windows of development seeds the hybrid lost 9-35 dB
to copy-last-frame.
Settled first (with the static scenery, the moving bodies held where they are, and first moved
out of any moving body it was fitted into), a resting body moves in the future only when
something hits it, and where nothing moves the composite keeps the observed pixels
(:func:`twinsim.neural.hybrid.play_forward`).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import numpy as np
from twinsim.neural.support import reach
from twinsim.sim.spec import ObjectSpec, SceneSpec

__all__ = ["apart", "at_rest", "clear_of", "held", "moved", "moves", "settled", "stopped", "turn"]

_MAX_SECONDS = 2.0  # an interpenetrating pair thrown apart lands within this
_REST_SPEED = 0.005  # m/s: settled
# Moved less, a body has not moved (:func:`moved`): settled, it keeps its estimated pose (one at
# rest on a face already, a box laid flat on the floor, would otherwise start the rollout from
# Bullet's resting penetration, and the fresh contacts' first steps shift its edge pixels); in
# the rollout, the composite keeps its observed pixels.
_KEEP_DISTANCE = 0.001  # m
_KEEP_ANGLE = 0.01  # rad
_CLEARANCE = 0.001  # m: how far clear of a moving body an overlapping resting one is put
_CLEAR_ROUNDS = 4
_MIN_LEVEL_NORMAL = 0.3  # the level part of an overlap's normal that a sideways shift needs
# shares of an overlap's way out that one of a pair may take (the other the rest), half first
_SHARES = (0.5, 0.25, 0.75, 0.0, 1.0)


def moves(o: ObjectSpec) -> bool:
    """A body given a velocity or a path (what the estimate saw move)."""
    return o.kinematic or any(o.linear_velocity) or any(o.angular_velocity)


def stopped(o: ObjectSpec) -> ObjectSpec:
    """``o`` with no velocity if no point of it moves faster than a settled body (5 mm/s): a
    body played to a stop keeps a creeping remainder (a box slid to a stop while hidden rocked
    at 8 mrad/s, under a millimetre a second at its corners)."""
    if o.mass == 0 or o.kinematic or not moves(o):
        return o
    fastest = np.linalg.norm(o.linear_velocity) + np.linalg.norm(o.angular_velocity) * reach(
        o.shape, o.size
    )
    if fastest >= _REST_SPEED:
        return o
    return dataclasses.replace(o, linear_velocity=(0.0,) * 3, angular_velocity=(0.0,) * 3)


def held(o: ObjectSpec) -> ObjectSpec:
    """``o`` fixed where it is now: no mass, velocity or path (an obstacle others meet)."""
    return dataclasses.replace(
        o, mass=0.0, linear_velocity=(0.0,) * 3, angular_velocity=(0.0,) * 3, path=()
    )


def at_rest(o: ObjectSpec) -> bool:
    """A dynamic body with no velocity (what the estimate calls still)."""
    return o.mass > 0 and not moves(o)


def settled(spec: SceneSpec) -> SceneSpec:
    """``spec`` with its bodies at rest moved to where they come to rest under gravity among
    the static scenery and the moving bodies, these held where they are (velocities stay zero;
    one that moves less than a millimetre keeps its pose); a resting body fitted into a moving
    one is first moved out of it (:func:`clear_of`). The rest of the scene is unchanged."""
    from twinsim.sim import World

    resting = [o for o in spec.objects if at_rest(o)]
    if not resting:
        return spec
    movers = [o for o in spec.objects if o.mass > 0 and not o.kinematic and moves(o)]
    resting = clear_of(spec, resting, movers)
    # Held still while the resting bodies settle, so that these settle against them, not into
    # them: left out, an overlap is resolved in the rollout, where Bullet pushes both apart
    # (push seed 3 000 017: a box that slid to a stop against another, fitted 6 cm into it,
    # knocked it on at 15 cm/s: -19 dB to copy-last-frame)
    scenery = [o for o in spec.objects if o.mass == 0 and not o.kinematic]
    scenery += [held(o) for o in movers]
    alone = _only(spec, resting + scenery)
    with World(alone) as world:
        for _ in range(int(np.ceil(_MAX_SECONDS * spec.world.fps))):
            world.step_frame()
            speeds = [np.abs(np.concatenate(world.velocity(o.name))).max() for o in resting]
            if max(speeds) < _REST_SPEED:
                break
        poses = {o.name: world.pose(o.name) for o in resting}
    poses = {
        name: pose
        for name, pose in poses.items()
        if moved(spec.object(name).position, spec.object(name).orientation, *pose)
    }
    return dataclasses.replace(
        spec,
        objects=tuple(
            dataclasses.replace(
                o,
                position=tuple(float(x) for x in poses[o.name][0]),
                orientation=tuple(float(q) for q in poses[o.name][1]),
            )
            if o.name in poses
            else o
            for o in spec.objects
        ),
    )


def moved(
    position0,
    orientation0,
    position,
    orientation,
    distance: float = _KEEP_DISTANCE,
    angle: float = _KEEP_ANGLE,
) -> bool:
    """Whether a body went from pose 0 to the other (positions in m, quaternions xyzw) by more
    than ``distance`` (m) or ``angle`` (rad); by default a millimetre or 0.01 rad: less is
    Bullet's contact jitter, not motion."""
    shift = float(np.linalg.norm(np.subtract(position, position0)))
    return shift > distance or float(turn(orientation0, orientation)) > angle


def turn(orientation0, orientations) -> np.ndarray:
    """Angle (rad) from quaternion ``orientation0`` (4,) to ``orientations`` (..., 4), both
    xyzw: shape (...)."""
    dots = np.abs(np.sum(np.asarray(orientations) * np.asarray(orientation0), axis=-1))
    return 2 * np.arccos(np.clip(dots, 0.0, 1.0))


def clear_of(
    spec: SceneSpec, resting: list[ObjectSpec], movers: list[ObjectSpec]
) -> list[ObjectSpec]:
    """``resting`` bodies (of ``spec``) with each that overlaps a body of ``movers`` moved
    sideways, along the level part of the overlap's normal, until it no longer does (a
    millimetre clear). The fit of a body at rest against a moving one is least sure where
    the two meet (their edges merge in the pixels): collide seed 3 000 005's box, about to be
    struck, was fitted 1.8 cm into the ball, and push seed 3 000 017's box 6 cm into the box
    it had slid against. An overlap whose normal is nearly vertical (one on top of the other)
    is left to the settling."""
    from twinsim.sim import World

    if not movers:
        return resting
    resting = list(resting)
    for _ in range(_CLEAR_ROUNDS):  # a shift out of one body may push into another
        scene = _only(spec, resting + movers)
        shifted = False
        with World(scene) as world:
            for i, r in enumerate(resting):
                shift = np.zeros(3)
                for m in movers:
                    shift += _way_out(world, r.name, m.name)
                if shift.any():
                    shifted = True
                    resting[i] = _shifted(r, shift)
        if not shifted:
            break
    return resting


def apart(spec: SceneSpec, error: Callable[[SceneSpec], float] | None = None) -> SceneSpec:
    """``spec`` with its moving bodies that overlap one another moved apart along the level
    part of the overlap (a millimetre clear); the rest unchanged. Two bodies sliding together
    meet where their edges merge in the pixels, the least sure place of either fit, and played
    as fitted, the engine throws them apart in the first predicted frames (collide seed
    3 000 016: two boxes fitted 38 mm into each other, one tipped over).

    Which body moves how far is judged by ``error`` (a spec's mismatch with the observed
    frame, e.g. its render's pixel error): of a pair, the split of the shift (all to one,
    three quarters, half, ...) that explains the frame best, so the better-fitted body keeps
    its place; without ``error``, or where no split is better, half each."""
    from twinsim.sim import World

    movers = [o for o in spec.objects if o.mass > 0 and not o.kinematic and moves(o)]
    if len(movers) < 2:
        return spec
    for _ in range(_CLEAR_ROUNDS):  # a shift out of one body may push into another
        shifts = {o.name: np.zeros(3) for o in movers}
        with World(_only(spec, movers)) as world:
            for a, b in itertools.combinations(movers, 2):
                way = _way_out(world, a.name, b.name)
                if not way.any():
                    continue
                share = 0.5 if error is None else _best_share(spec, movers, a, b, way, error)
                shifts[a.name] += share * way
                shifts[b.name] -= (1.0 - share) * way
        if not any(shift.any() for shift in shifts.values()):
            break
        movers = [_shifted(o, shifts[o.name]) for o in movers]
    return _with(spec, movers)


def _best_share(spec, movers, a, b, way, error) -> float:
    """The share of ``way`` (a's way out of b) that ``a`` takes, b the rest, that ``error``
    finds best (ties keep the first of :data:`_SHARES`, half each)."""
    errors = [
        error(_with(spec, [_shifted(a, s * way), _shifted(b, (s - 1.0) * way), *movers]))
        for s in _SHARES
    ]
    return _SHARES[int(np.argmin(errors))]


def _shifted(o: ObjectSpec, shift) -> ObjectSpec:
    return dataclasses.replace(o, position=tuple(float(x) for x in np.add(o.position, shift)))


def _with(spec: SceneSpec, objects: list[ObjectSpec]) -> SceneSpec:
    """``spec`` with its bodies of the names in ``objects`` replaced (the first of a name)."""
    by_name: dict[str, ObjectSpec] = {}
    for o in objects:
        by_name.setdefault(o.name, o)
    return dataclasses.replace(spec, objects=tuple(by_name.get(o.name, o) for o in spec.objects))


def _way_out(world, name: str, other: str) -> np.ndarray:
    """(3,) m: the level shift that takes body ``name`` a millimetre clear of ``other`` where
    they overlap side by side; zero where they do not overlap, or one lies on the other (an
    overlap whose normal is nearly vertical is left to the settling)."""
    depth, normal = world.penetration(name, other)
    level = np.array([normal[0], normal[1], 0.0])
    h = float(np.linalg.norm(level))
    if depth > 0 and h > _MIN_LEVEL_NORMAL:
        return (depth + _CLEARANCE) / h * level / h
    return np.zeros(3)


def _only(spec: SceneSpec, objects: list[ObjectSpec]) -> SceneSpec:
    """``spec`` with just ``objects``, and nothing scripted (joints, events, a violation)."""
    return dataclasses.replace(spec, objects=tuple(objects), joints=(), events=(), violation=None)
