"""Lossy video input: edge blends and noise-split colours are mended before they become objects."""

from __future__ import annotations

import numpy as np
import pytest
from twinsim.neural.footage import decode_video
from twinsim.neural.proposals import Backdrop, find_blobs
from twinsim.neural.track import track_objects
from twinsim.sim import sample_scene, simulate
from twinsim.sim.fileio import write_mp4

FLOOR = np.array([231, 231, 217], np.float32)
RED = np.array([166, 29, 29], np.float32)
BACKDROP = Backdrop(floor=FLOOR, sky=np.array([255, 255, 255], np.float32))


def _frame() -> np.ndarray:
    frame = np.empty((32, 32, 3), np.float32)
    frame[:] = FLOOR
    frame[12:20, 12:20] = RED
    return frame


def test_a_ring_of_edge_blends_goes_to_the_sides_it_lies_between():
    frame = _frame()
    ring = np.zeros((32, 32), bool)
    ring[11:21, 11:21] = True
    ring[12:20, 12:20] = False
    frame[ring] = 0.35 * RED + 0.65 * FLOOR  # nearer the floor: a codec's smear, not the body
    blobs = find_blobs(frame.round().astype(np.uint8), BACKDROP)
    assert len(blobs) == 1, [(b.area, b.color) for b in blobs]
    square = np.zeros((32, 32), bool)
    square[12:20, 12:20] = True
    np.testing.assert_array_equal(blobs[0].mask, square)


def test_one_colour_split_by_noise_is_one_blob():
    frame = _frame()
    frame[12:20, 16:20] = [176, 38, 30]  # chromaticity 0.051 from RED: clustered apart
    blobs = find_blobs(frame.astype(np.uint8), BACKDROP)
    assert [b.area for b in blobs] == [64]


def test_a_box_face_in_shade_is_the_same_body():
    # an orange box's lit top and its face in shade (drop seed 3 000 000): 0.49 of its
    # brightness and 0.053 apart in chromaticity, once split into a second "box" fitted 40 off
    frame = _frame()
    frame[12:20, 12:20] = [255, 150, 14]
    frame[12:20, 20:24] = [132, 69, 6]
    blobs = find_blobs(frame.astype(np.uint8), BACKDROP)
    assert [b.area for b in blobs] == [96]


def test_distinct_bodies_side_by_side_stay_apart():
    frame = _frame()
    frame[12:20, 20:26] = [30, 72, 176]  # a blue body touching the red one
    frame[4:6, 4:6] = [240, 150, 150]  # a small pink body away from both: not a blend
    blobs = find_blobs(frame.astype(np.uint8), BACKDROP)
    assert sorted(b.area for b in blobs) == [4, 48, 64]


@pytest.mark.parametrize("family,seed", [("collide", 2_000_005), ("drop", 2_000_001)])
def test_a_render_written_as_mp4_keeps_its_objects(tmp_path, family, seed):
    rgb = simulate(sample_scene(family, seed), labels=("rgb",)).rgb[:8]
    path = write_mp4(tmp_path / "clip.mp4", rgb, fps=24)
    decoded = decode_video(path, 64, max_frames=8)
    assert decoded.shape == rgb.shape
    assert len(track_objects(decoded)[0]) == len(track_objects(rgb)[0]) == 3


def test_a_speck_never_seen_twice_running_is_not_an_object():
    frames = np.empty((6, 32, 32, 3), np.uint8)
    frames[:] = FLOOR.astype(np.uint8)
    frames[:, 12:20, 12:20] = RED.astype(np.uint8)
    for t in (1, 4):  # codec speckle: a few dark green pixels, now and then
        frames[t, 2:4, 2:4] = [10, 92, 26]
    assert len(track_objects(frames, BACKDROP)[0]) == 1
    frames[5, 2:4, 2:4] = [10, 92, 26]  # seen in frames 4 and 5 running: a small body
    assert len(track_objects(frames, BACKDROP)[0]) == 2


def test_the_hybrid_leaves_no_speck_behind_a_ball_decoded_from_mp4(tmp_path):
    from scipy.ndimage import label
    from twinsim.neural import predict_hybrid

    spec = sample_scene("projectile", 2_000_000)
    rgb = simulate(spec, labels=("rgb",)).rgb  # the whole clip, as a user's file holds it
    decoded = decode_video(write_mp4(tmp_path / "clip.mp4", rgb, fps=24), 64, max_frames=10)
    pred = predict_hybrid(decoded, 6, camera=spec.cameras[0])
    for frame in pred.frames:  # one ball and nothing else on the floor
        assert label(~BACKDROP.mask(frame))[1] == 1
