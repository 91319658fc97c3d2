"""A body in flight turns at the constant spin that best explains every fitted frame, not at
the turn between its last two fits, whose few degrees of scatter read as several rad/s."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation
from twinsim.neural.bodies import angular_velocity
from twinsim.neural.kinematics import FPS
from twinsim.neural.refine import FrameFit

_START = Rotation.from_euler("xyz", [25, -40, 70], degrees=True)


def _fits(shape: str, size, spin, noise_deg: float, seed: int, flips: bool = False):
    """Fits of frames 0..6 of a body turning at ``spin`` (rad/s), each pose off by up to
    ``noise_deg`` about a random axis and, with ``flips``, a box turned half a turn about a
    random one of its axes (the same body)."""
    rng = np.random.default_rng(seed)
    out = {}
    for t in range(7):
        pose = Rotation.from_rotvec(np.asarray(spin) * t / FPS) * _START
        axis = rng.normal(size=3)
        jitter = Rotation.from_rotvec(axis / np.linalg.norm(axis) * np.radians(noise_deg))
        pose = jitter * pose
        if flips:
            turn = np.zeros(3)
            turn[rng.integers(3)] = np.pi * rng.integers(2)
            pose = pose * Rotation.from_rotvec(turn)
        out[t] = FrameFit(
            shape, size, (0.8, 0.2, 0.2, 1.0), np.array([0.0, 0.0, 0.5]), pose.as_quat(), 1.0, 1
        )
    return out


def _two_fit_spin(fits) -> float:
    r0, r1 = (Rotation.from_quat(fits[t].orientation) for t in (5, 6))
    return float(np.linalg.norm((r1 * r0.inv()).as_rotvec() * FPS))


def test_a_falling_box_that_does_not_turn_is_given_little_spin():
    box = (0.05, 0.07, 0.1)
    spins, two_frame = [], []
    for seed in range(8):
        fits = _fits("box", box, (0, 0, 0), 4.0, seed, flips=True)
        spins.append(np.linalg.norm(angular_velocity(fits, fits[6], np.zeros(3), False)))
        two_frame.append(_two_fit_spin(fits))
    # the last two fits alone: 4 degrees of scatter each over 1/24 s, or half a turn per frame
    assert np.median(two_frame) > 2.0
    assert np.median(spins) < 0.8, spins


def test_a_tumbling_box_keeps_its_spin():
    spin = np.array([3.0, -1.5, 2.0])
    fits = _fits("box", (0.05, 0.07, 0.1), spin, 2.0, 0, flips=True)
    w = angular_velocity(fits, fits[6], np.zeros(3), False)
    assert np.linalg.norm(w - spin) < 0.25 * np.linalg.norm(spin), w


def test_a_cylinder_in_flight_turns_its_axis_only():
    spin = np.array([0.0, 4.0, 0.0])
    fits = _fits("cylinder", (0.04, 0.2), spin, 1.0, 1)
    w = angular_velocity(fits, fits[6], np.zeros(3), False)
    # its roll about its own axis is invisible: the spin that turns the axis, mid-window
    axis = Rotation.from_quat(fits[3].orientation).as_matrix()[:, 2]
    along = spin - axis * float(axis @ spin)
    assert np.linalg.norm(w - along) < 0.25 * np.linalg.norm(along), (w, along)
    still = _fits("cylinder", (0.04, 0.2), (0, 0, 0), 3.0, 2)
    assert np.linalg.norm(angular_velocity(still, still[6], np.zeros(3), False)) < 0.8
