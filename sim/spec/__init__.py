"""The scene specification: a typed, validated, versioned, JSON-serialisable scene description.

Conventions (see docs/conventions.md for the full table):
    * World frame: right-handed, metres, z up, gravity along -z. The floor is the plane z = 0.
    * Orientations are quaternions (x, y, z, w), PyBullet's order.
    * Times are seconds from the start of the scene; frames are indices at ``world.fps``.
    * Sizes: sphere ``(radius,)``; box ``(half_x, half_y, half_z)``; cylinder and capsule
      ``(radius, length)`` with the axis along the body's local z; mesh ``(scale,)`` or
      ``(sx, sy, sz)``.

Every dataclass validates itself on construction and raises :class:`SpecError` naming the field,
the bad value and what is allowed. ``SceneSpec.from_json(spec.to_json()) == spec`` holds exactly.

Ranges (every number must also be finite, and every field have its annotated type):
    * coordinates (positions, eye, target, event points, teleport offsets): |x| <= 1e4 m;
    * sizes 1e-5..1e3 m; mass 0 (static) or 1e-5..1e5 kg; friction 0..10; restitution 0..1;
    * linear velocity |v| <= 1e3 m/s per axis, angular <= 1e4 rad/s; gravity <= 1e3 m/s^2;
    * event vectors <= 1e6 N (or N s) per axis; every time and duration 0..1e5 s;
    * colours 0..1; camera near 1e-4..far, far <= 1e5 m; ``up`` and light ``direction`` are
      non-zero vectors.

One module per concern: :mod:`.limits` (names, ranges, validators), :mod:`.body` (objects,
joints, events), :mod:`.view` (cameras, light), :mod:`.world` (physics and timing),
:mod:`.violation` and :mod:`.scene` (the whole scene, JSON).
"""

from twinsim.sim.spec.body import EventSpec, JointSpec, Keyframe, ObjectSpec
from twinsim.sim.spec.limits import COLLISIONS, EVENT_KINDS, IMAGE_SIDE, SHAPES, VIOLATIONS
from twinsim.sim.spec.scene import SPEC_VERSION, SceneSpec, with_image_size
from twinsim.sim.spec.view import CameraKeyframe, CameraSpec, LightSpec
from twinsim.sim.spec.violation import Violation
from twinsim.sim.spec.world import WorldSpec

__all__ = [
    "COLLISIONS",
    "EVENT_KINDS",
    "IMAGE_SIDE",
    "SHAPES",
    "SPEC_VERSION",
    "VIOLATIONS",
    "CameraKeyframe",
    "CameraSpec",
    "EventSpec",
    "JointSpec",
    "Keyframe",
    "LightSpec",
    "ObjectSpec",
    "SceneSpec",
    "Violation",
    "WorldSpec",
    "with_image_size",
]
