"""A cylinder estimated on the floor rests there: on its cap or on its side, level, not at the
fitted tilt and float (which the engine turned into a body landing on its rim)."""

from __future__ import annotations

import numpy as np
from _cylinders import CAMERA, render, sure, upright_can
from scipy.spatial.transform import Rotation
from twinsim.neural.bodies import level_cylinder
from twinsim.neural.estimate import estimate_scene
from twinsim.neural.refine import FrameFit


def _fit(axis_euler_deg, z: float) -> FrameFit:
    q = Rotation.from_euler("xyz", axis_euler_deg, degrees=True).as_quat()
    return FrameFit(
        "cylinder", (0.08, 0.2), (0.2, 0.6, 0.3, 1.0), np.array([0.3, 0.1, z]), q, 2.0, 1
    )


def _axis(q) -> np.ndarray:
    return Rotation.from_quat(q).as_matrix()[:, 2]


def test_a_nearly_upright_fit_stands_on_its_cap():
    out = level_cylinder(_fit([15, -10, 30], 0.12))
    assert _axis(out.orientation)[2] > 1 - 1e-9
    np.testing.assert_allclose(out.position, [0.3, 0.1, 0.1])  # half its height
    assert out.size == (0.08, 0.2)


def test_a_tilted_lying_fit_lies_level_at_its_heading():
    fit = _fit([90 - 17, 0, 30], 0.095)  # lying, its axis dipped 17 degrees
    out = level_cylinder(fit)
    axis, before = _axis(out.orientation), _axis(fit.orientation)
    assert abs(axis[2]) < 1e-9
    heading = np.arctan2(before[1], before[0])
    np.testing.assert_allclose(axis[:2], [np.cos(heading), np.sin(heading)], atol=1e-9)
    np.testing.assert_allclose(out.position, [0.3, 0.1, 0.08])  # its radius


def test_a_cylinder_leaning_further_off_keeps_its_fitted_pose():
    fit = _fit([90 - 30, 0, 30], 0.15)  # 30 degrees off lying: leaning on something
    assert level_cylinder(fit) is fit


def test_a_sliding_cylinder_is_estimated_resting_level_and_spinning_only_about_its_axis():
    frames = render(upright_can(1.2), 6)
    est = estimate_scene(frames, CAMERA, classifier=sure("cylinder", "sphere"))
    (body,) = [o.spec for o in est.objects if o.spec.mass > 0]
    assert body.shape == "cylinder"
    axis = _axis(body.orientation)
    # its last frame fits standing and lying end-on alike (4.0 grey levels off each, measured):
    # either way it rests level, on the floor
    standing = axis[2] > 1 - 1e-9
    assert standing or abs(axis[2]) < 1e-9
    rest = body.size[1] / 2 if standing else body.size[0]
    assert abs(body.position[2] - rest) < 1e-9
    spin = np.asarray(body.angular_velocity)
    np.testing.assert_allclose(spin, axis * float(axis @ spin), atol=1e-9)  # about its axis
    assert body.linear_velocity[0] > 0.5  # still moving the way it was seen to
