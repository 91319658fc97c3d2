"""A falling body whose last frames are fitted in a poor pose is refitted forward from the
earlier frames of its flight that fit well (those frames are fitted only to lengthen the arc,
after the window, and the window's frames had been fitted back from its poor last one)."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation
from twinsim.neural.estimate import estimate_scene
from twinsim.sim import sample_scene, simulate


def _axis(q) -> np.ndarray:
    return Rotation.from_quat(q).as_matrix()[:, 2]


def test_a_cylinder_stuck_in_a_poor_pose_is_refitted_from_its_early_frames():
    # development drop seed 3 000 005: the cylinder's last frame was fitted 9 grey levels off
    # with its axis 87 degrees from the truth, and the window's frames were fitted back from it
    # (6-11 off); its first three frames, fitted to lengthen the arc, fit to 1 at the same size
    spec = sample_scene("drop", 3_000_005)
    ro = simulate(spec, labels=("rgb", "objects"))
    k = 9
    est = estimate_scene(ro.rgb[: k + 1], camera=spec.cameras[0])
    j = [o.shape for o in spec.objects].index("cylinder")
    truth = ro.objects[j]
    cyl = min(
        (o.spec for o in est.objects),
        key=lambda s: np.abs(np.array(s.color[:3]) - np.array(spec.objects[j].color[:3])).sum(),
    )
    assert cyl.shape == "cylinder"
    off = np.degrees(np.arccos(min(1.0, abs(_axis(cyl.orientation) @ _axis(truth.orientation[k])))))
    assert off < 15.0, off
    assert np.linalg.norm(np.array(cyl.position) - truth.position[k]) < 0.03
    assert np.linalg.norm(cyl.angular_velocity) < 1.0  # it falls without turning
