"""Object permanence: an object hidden by an occluder is still there when the occluder has passed.

``occlusion``: a kinematic wall slides across the view in front of a resting object.
``screen``: an object slides behind a static screen and comes out on the other side.

The violation frame is computed from the camera and the occluder geometry: the middle of the
frames during which the object (and, for the twins, its teleported or reshaped self) is fully
behind the occluder's front face as seen from the camera eye.
"""

from __future__ import annotations

import math

import numpy as np
from twinsim.sim.families._common import (
    OCCLUDER_COLORS,
    Built,
    Family,
    Parameter,
    aabb_corners,
    camera,
    colors,
    half_extents,
    half_height,
    light,
    rnd,
    world,
)
from twinsim.sim.render.camera import camera_pose_at
from twinsim.sim.spec import Keyframe, ObjectSpec, SceneSpec, Violation

__all__ = ["FAMILIES", "hidden_behind"]

_SHAPES = ("sphere", "box", "cylinder")
_MARGIN = 0.02  # m inside the occluder's outline, for the rasteriser's sake
_MIN_HIDDEN = 3  # frames the object must stay hidden around the violation
# The occlusion camera's eye height: pitched 24-27 deg down, the horizon sits above its 45 deg
# frame (no sky).
_EYE_Z = 1.05
# The screen's camera: wide enough to see the target slide in before the screen hides it, and
# pitched 30-34 deg down (eye 1.35 m up) to keep the horizon above that wider frame.
_SCREEN_FOV, _SCREEN_EYE_Z = 58.0, 1.35


def hidden_behind(
    eye: tuple[float, ...], corners: np.ndarray, center: tuple[float, ...], half: tuple[float, ...]
) -> bool:
    """True when every corner lies behind the front face of an axis-aligned box as seen from
    ``eye`` (the box's face towards -y; the camera looks along +y)."""
    e = np.asarray(eye, float)
    y_face = center[1] - half[1]
    if not (e[1] < y_face < corners[:, 1].min()):
        return False
    t = (y_face - e[1]) / (corners[:, 1] - e[1])
    q = e + t[:, None] * (corners - e)
    x_ok = np.all(np.abs(q[:, 0] - center[0]) <= half[0] - _MARGIN)
    z_ok = np.all((q[:, 2] >= center[2] - half[2]) & (q[:, 2] <= center[2] + half[2] - _MARGIN))
    return bool(x_ok and z_ok)


def _projected_top(eye: tuple[float, ...], corners: np.ndarray, y_face: float) -> float:
    """Highest point where rays from the eye to the corners cross the plane y = y_face."""
    e = np.asarray(eye, float)
    t = (y_face - e[1]) / (corners[:, 1] - e[1])
    return float((e[2] + t * (corners[:, 2] - e[2])).max())


def _body(rng: np.random.Generator) -> tuple[str, tuple[float, ...]]:
    shape = str(rng.choice(_SHAPES))
    if shape == "sphere":
        return shape, (rnd(rng.uniform(0.1, 0.16)),)
    if shape == "box":
        a = rng.uniform(0.09, 0.15)
        return shape, tuple(rnd(a * f) for f in rng.uniform([0.85, 0.85, 0.9], [1.15, 1.15, 1.2]))
    return shape, (rnd(rng.uniform(0.08, 0.13)), rnd(rng.uniform(0.22, 0.34)))


def _reshaped(shape: str, size: tuple[float, ...]) -> tuple[str, tuple[float, ...]]:
    """A clearly different shape resting at the same height (same centre, same floor contact)."""
    h = half_height(shape, size)
    if shape == "sphere":
        return "box", (rnd(h), rnd(h), rnd(h))
    if shape == "box":
        return "sphere", (rnd(h),)
    return "sphere", (rnd(h),)


def _hidden_frames(eye, boxes: list[np.ndarray], centers: list[tuple], half) -> list[int]:
    return [
        k
        for k, c in enumerate(centers)
        if all(hidden_behind(eye, corners, c, half) for corners in boxes)
    ]


def _occlusion(rng: np.random.Generator, seed: int) -> Built:
    duration = 3.0
    w = world(duration)
    cam = camera(rng, eye=(0.0, -1.75, _EYE_Z), target=(0.0, 0.15, 0.18), fov=45.0)
    shape, size = _body(rng)
    new_shape, new_size = _reshaped(shape, size)
    x0, y0 = rng.uniform(-0.25, 0.25), rng.uniform(0.1, 0.35)
    col, new_col = colors(rng, 2)
    occ_col = OCCLUDER_COLORS[int(rng.integers(len(OCCLUDER_COLORS)))]
    direction = 1.0 if rng.random() < 0.5 else -1.0
    hx, hy, y_wall = rng.uniform(0.32, 0.45), 0.03, rng.uniform(-0.4, -0.2)
    dx = direction * rng.uniform(0.12, 0.22)
    t0, t1 = rng.uniform(0.2, 0.5), duration - rng.uniform(0.5, 0.7)
    extra_h = rng.uniform(0.0, 0.1)
    target = ObjectSpec(
        name="target",
        shape=shape,
        size=size,
        mass=rnd(rng.uniform(0.3, 2.0)),
        friction=rnd(rng.uniform(0.4, 0.8)),
        restitution=rnd(rng.uniform(0.1, 0.4)),
        color=col,
        position=(rnd(x0), rnd(y0), rnd(half_height(shape, size))),
    )
    boxes = [
        aabb_corners(target),
        aabb_corners(target, (dx, 0.0, 0.0)),
        aabb_corners((new_shape, new_size, target.position)),
    ]
    eye = cam.eye
    y_face = y_wall - hy
    hz = (max(_projected_top(eye, b, y_face) for b in boxes) + 0.06 + extra_h) / 2
    fps, n = w.fps, w.num_frames
    frames: list[int] = []
    for _ in range(12):  # widen the wall until every twin has a common hidden stretch
        x_far = 1.0 + hx
        xs = np.interp(np.arange(n) / fps, [t0, t1], [-direction * x_far, direction * x_far])
        centers = [(float(x), y_wall, hz) for x in xs]
        frames = _hidden_frames(eye, boxes, centers, (hx, hy, hz))
        if len(frames) >= _MIN_HIDDEN:
            break
        hx += 0.05
    if len(frames) < _MIN_HIDDEN:  # cannot happen within the documented ranges
        raise RuntimeError(f"occlusion seed {seed}: no frame hides the target")
    x_far = rnd(1.0 + hx)
    path = (
        Keyframe(0.0, (-direction * x_far, rnd(y_wall), rnd(hz))),
        Keyframe(rnd(t0), (-direction * x_far, rnd(y_wall), rnd(hz))),
        Keyframe(rnd(t1), (direction * x_far, rnd(y_wall), rnd(hz))),
    )
    occluder = ObjectSpec(
        name="occluder",
        shape="box",
        size=(rnd(hx), hy, rnd(hz)),
        mass=0.0,
        color=occ_col,
        position=path[0].position,
        path=path,
    )
    # Target last: dropping it (the appear twin's possible scene) keeps the occluder's seg id.
    spec = SceneSpec(objects=(occluder, target), cameras=(cam,), light=light(False), world=w)
    f = frames[len(frames) // 2]
    return Built(spec, _permanence_twins(f, (dx, 0.0, 0.0), new_shape, new_size, new_col))


def _permanence_twins(f, offset, new_shape, new_size, new_col) -> dict[str, Violation]:
    return {
        "vanish": Violation("vanish", "target", f),
        "appear": Violation("appear", "target", f),
        "teleport": Violation("teleport", "target", f, offset=tuple(rnd(v) for v in offset)),
        "change_shape": Violation(
            "change_shape", "target", f, new_shape=new_shape, new_size=new_size
        ),
        "change_color": Violation("change_color", "target", f, new_color=new_col),
    }


def _in_view(pose, corners: np.ndarray, margin_px: float = 1.0) -> bool:
    """Every corner in front of the camera and inside the image, ``margin_px`` from its sides."""
    cam = pose.world_to_camera[:3, :3] @ corners.T + pose.world_to_camera[:3, 3:]
    if (cam[2] <= 0).any():
        return False
    uv = (pose.K @ cam)[:2] / cam[2]
    return bool(
        (uv[0] >= margin_px).all()
        and (uv[0] <= pose.width - margin_px).all()
        and (uv[1] >= margin_px).all()
        and (uv[1] <= pose.height - margin_px).all()
    )


def _screen(rng: np.random.Generator, seed: int) -> Built:
    duration = 2.5
    w = world(duration)
    cam = camera(rng, eye=(0.0, -1.75, _SCREEN_EYE_Z), target=(0.0, 0.15, 0.18), fov=_SCREEN_FOV)
    pose = camera_pose_at(cam, 0.0)
    shape = str(rng.choice(("box", "cylinder")))
    if shape == "box":  # low and wide: slides without tipping over
        a = rng.uniform(0.08, 0.12)
        size = (rnd(a), rnd(a * rng.uniform(0.8, 1.1)), rnd(a * rng.uniform(0.7, 1.0)))
    else:
        r = rng.uniform(0.08, 0.12)
        size = (rnd(r), rnd(2 * r * rng.uniform(0.7, 1.0)))
    new_shape, new_size = _reshaped(shape, size)
    col, new_col = colors(rng, 2)
    scr_col = OCCLUDER_COLORS[int(rng.integers(len(OCCLUDER_COLORS)))]
    direction = 1.0 if rng.random() < 0.5 else -1.0
    xs, y0 = rng.uniform(-0.05, 0.05), rng.uniform(0.1, 0.3)
    # the screen stands just in front of the path: the nearer the eye, the wider its shadow
    hx, hy = rng.uniform(0.32, 0.42), 0.03
    y_wall = y0 - max(size[:2]) - hy - rng.uniform(0.12, 0.2)
    friction = rng.uniform(0.2, 0.35)
    dx = direction * rng.uniform(0.08, 0.12)
    z = half_height(shape, size)
    # Start as far out as the image allows, so that the target is seen sliding, whole, for
    # several frames before the screen hides it (continuity needs a motion to continue).
    span = max(half_extents(shape, size)[:2])
    x_start = xs - direction * (hx + span)
    while _in_view(pose, aabb_corners((shape, size, (x_start - direction * 0.01, y0, z)))):
        x_start -= direction * 0.01
    x_stop = xs + direction * (hx + size[0] + rng.uniform(0.12, 0.2))
    # Bullet multiplies the two frictions; damping and contact make it ~10% stickier (measured).
    mu = 1.1 * friction * w.floor_friction
    v0 = math.sqrt(2 * mu * 9.81 * abs(x_stop - x_start))
    target = ObjectSpec(
        name="target",
        shape=shape,
        size=size,
        mass=rnd(rng.uniform(0.3, 1.5)),
        friction=rnd(friction),
        restitution=0.1,
        color=col,
        position=(rnd(x_start), rnd(y0), rnd(z)),
        linear_velocity=(rnd(direction * v0), 0.0, 0.0),
    )
    eye, y_face = cam.eye, y_wall - hy
    t_stop = v0 / (mu * 9.81)
    frames = []
    tops = []
    for k in range(w.num_frames):
        t = min(k / w.fps, t_stop)
        x = x_start + direction * (v0 * t - 0.5 * mu * 9.81 * t * t)
        boxes = [
            aabb_corners((shape, size, (x, y0, z))),
            aabb_corners((shape, size, (x + dx, y0, z))),
            aabb_corners((new_shape, new_size, (x, y0, z))),
        ]
        tops.append(max(_projected_top(eye, b, y_face) for b in boxes))
        frames.append(boxes)
    hz = (max(tops) + 0.06 + rng.uniform(0.0, 0.08)) / 2
    centre = (xs, y_wall, hz)
    hidden = [
        k
        for k, boxes in enumerate(frames)
        if all(hidden_behind(eye, b, centre, (hx, hy, hz)) for b in boxes)
    ]
    if len(hidden) < 2:  # cannot happen within the documented ranges
        raise RuntimeError(f"screen seed {seed}: no frame hides the target")
    screen = ObjectSpec(
        name="screen",
        shape="box",
        size=(rnd(hx), hy, rnd(hz)),
        mass=0.0,
        color=scr_col,
        position=(rnd(xs), rnd(y_wall), rnd(hz)),
    )
    spec = SceneSpec(objects=(screen, target), cameras=(cam,), light=light(False), world=w)
    twins = _permanence_twins(
        hidden[len(hidden) // 2], (dx, 0.0, 0.0), new_shape, new_size, new_col
    )
    del twins["appear"]  # it would appear at its start, in plain view
    return Built(spec, twins)


FAMILIES = (
    Family(
        name="occlusion",
        description=(
            "A wall slides across the view in front of a resting object (object permanence: "
            "it is still there once the wall has passed)."
        ),
        build=_occlusion,
        violations=("vanish", "appear", "teleport", "change_shape", "change_color"),
        roles=(("occluder", "occluder"), ("target", "target")),
        parameters=(
            Parameter("object shape", choices=_SHAPES),
            Parameter("object size (radius / half extent)", 0.08, 0.17, "m"),
            Parameter("object mass", 0.3, 2.0, "kg"),
            Parameter("object friction", 0.4, 0.8),
            Parameter("object restitution", 0.1, 0.4),
            Parameter("occluder half width", 0.32, 0.95, "m"),
            Parameter("occluder start / end of slide", 0.2, 2.5, "s"),
            Parameter("teleport offset (along the wall's motion)", 0.12, 0.22, "m"),
            Parameter("camera jitter", 0.0, 0.08, "m"),
            Parameter("duration", 3.0, 3.0, "s"),
        ),
    ),
    Family(
        name="screen",
        description=(
            "An object slides behind a static screen and comes out on the other side "
            "(object permanence and continuity of a moving object)."
        ),
        build=_screen,
        violations=("vanish", "teleport", "change_shape", "change_color"),
        roles=(("screen", "occluder"), ("target", "target")),
        parameters=(
            Parameter("object shape", choices=("box", "cylinder")),
            Parameter("object half extent / radius", 0.08, 0.12, "m"),
            Parameter("object mass", 0.3, 1.5, "kg"),
            Parameter("object friction", 0.2, 0.35),
            Parameter(
                "slide distance (from the image's edge: seen whole 4-9 frames)", 1.4, 2.0, "m"
            ),
            Parameter("screen half width", 0.32, 0.42, "m"),
            Parameter("teleport offset (along the motion)", 0.08, 0.12, "m"),
            Parameter("camera jitter", 0.0, 0.08, "m"),
            Parameter("duration", 2.5, 2.5, "s"),
        ),
    ),
)
