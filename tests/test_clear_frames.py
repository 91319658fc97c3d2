"""Which frames of a track show the whole body: a body with floor or sky all round it is
whole whatever its area (a ball falling away from the camera shrinks); one bordering another
body may be covered by it, and is whole only at 3/4 of its largest recent area."""

from __future__ import annotations

import numpy as np
from twinsim.neural.proposals import Backdrop, find_blobs
from twinsim.neural.track import Track, track_objects
from twinsim.neural.track_frames import clear_frames

FLOOR = np.array([231, 231, 217], np.float32)
RED = np.array([166, 29, 29], np.uint8)
GREY = np.array([90, 90, 95], np.uint8)
BACKDROP = Backdrop(floor=FLOOR, sky=np.array([255, 255, 255], np.float32))


def _frame(size: int = 8, wall: bool = False, at: int = 12) -> np.ndarray:
    frame = np.empty((32, 32, 3), np.uint8)
    frame[:] = FLOOR.astype(np.uint8)
    frame[at : at + size, at : at + size] = RED
    if wall:  # a grey wall right of the body, touching it
        frame[6:28, at + size : at + size + 4] = GREY
    return frame


def _red(frame: np.ndarray):
    return next(b for b in find_blobs(frame, BACKDROP) if b.color[0] > 120)


def test_a_body_with_floor_all_round_is_isolated_and_one_touching_a_wall_or_edge_is_not():
    assert _red(_frame()).isolated
    assert not _red(_frame(wall=True)).isolated
    assert not _red(_frame(at=0)).isolated  # cut by the image edge: more of it may be outside


def test_a_shrinking_body_in_the_open_keeps_every_frame_and_a_covered_one_does_not():
    sizes = [8, 8, 7, 7, 6, 6]  # the last two at 36 of 64 pixels
    for wall, expected in ((False, [0, 1, 2, 3, 4, 5]), (True, [0, 1, 2, 3])):
        frames = np.stack([_frame(s, wall) for s in sizes])
        tracks, _ = track_objects(frames, BACKDROP)
        (red,) = [tr for tr in tracks if tr.blobs[0].color[0] > 120]
        assert clear_frames(red, 10) == expected
        assert clear_frames(red, 3) == expected[-3:]


def test_a_track_never_isolated_keeps_the_area_rule():
    blob = _red(_frame(wall=True))
    small = _red(_frame(5, wall=True))
    tr = Track([blob, blob, small], blob.chroma.copy(), float(blob.color.sum()))
    assert clear_frames(tr, 5) == [0, 1]
