"""A body found at rest and in full view, its level position and size polished against the last
observed frame with its lowest point held on its support.

A frame's fit is free in scale (a body twice as far and twice as big draws the same pixels);
the scale is then set by the support the body touches (:mod:`twinsim.neural.scale`), and that
keeps the fit's proportions. A proportion a few per cent off becomes a depth error: on
development occlusion seeds, upright cylinders fitted 2-4 % too slim at 2.2 m were placed
1-4 cm toward the camera (seed 3 000 001: radius 0.122 for 0.125, 2.8 cm near), while the
truth, drawn, matches the frame exactly. Held on its support, the body has as many unknowns
as its outline has edges, and the frame decides them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from twinsim.neural.canvas import Canvas
from twinsim.neural.refine import compass_search
from twinsim.neural.support import lowest_offset, reach
from twinsim.sim.spec import ObjectSpec

__all__ = ["alone_on_the_floor", "polished"]

_STEP_M = 0.004  # first level step (m); halved four times, to half a millimetre
_STEP_LOG_SIZE = 0.03  # first size step (3 %)
_MAX_EVALS = 160
_ON_FLOOR = 0.003  # m: a lowest point this near the floor rests on it
_SCATTER = 64  # random starts
_POLISHED = 3  # of which the best are polished
# half-widths of the starts: level shift (m), log scale about the eye, log sizes
_SPAN = np.array([0.02, 0.02, 0.05, 0.1, 0.1, 0.1])


def polished(
    objects: list[ObjectSpec], index: int, frame: np.ndarray, canvas: Canvas
) -> ObjectSpec:
    """``objects[index]`` with its level position and size moved to where the render of all
    ``objects`` best matches ``frame`` (H, W, 3) uint8 (summed absolute error), its lowest
    point kept at its height and its orientation kept; unchanged where nothing is better."""
    o = objects[index]
    q = np.asarray(o.orientation, float)
    bottom = _bottom(o)
    size0 = np.asarray(o.size, float)
    eye = np.asarray(canvas.pose.eye, float)
    target = frame.astype(np.int32)

    def body(theta: np.ndarray) -> ObjectSpec:
        # theta: level shift (2), scale about the eye (the direction a frame's fit is free
        # in), then each size
        scale = np.exp(theta[2])
        size = size0 * scale * np.exp(theta[3:])
        x, y, _ = eye + scale * (np.asarray(o.position, float) - eye)
        position = (x + theta[0], y + theta[1], bottom + lowest_offset(o.shape, size, q))
        return dataclasses.replace(
            o, size=tuple(float(s) for s in size), position=tuple(float(x) for x in position)
        )

    def error(theta: np.ndarray) -> float:
        drawn = list(objects)
        drawn[index] = body(theta)
        return canvas.mismatch(drawn, target)

    steps = np.array([_STEP_M, _STEP_M] + [_STEP_LOG_SIZE] * (1 + len(size0)))
    # the error is flat over wide stretches of pose and size (whole pixels), with the truth a
    # narrow dip: scattered starts, then the best few polished
    rng = np.random.default_rng(0)
    n = len(steps)
    starts = np.concatenate([np.zeros((1, n)), rng.uniform(-1, 1, (_SCATTER, n)) * _SPAN[:n]])
    errors = np.array([error(t) for t in starts])
    best, best_error = starts[0], errors[0]
    for i in np.argsort(errors, kind="stable")[:_POLISHED]:
        theta, e, _ = compass_search(error, starts[i], steps, _MAX_EVALS)
        if e < best_error:
            best, best_error = theta, e
    return body(best) if best.any() else o


def alone_on_the_floor(objects: list[ObjectSpec], index: int) -> bool:
    """Whether ``objects[index]`` rests on the floor with nothing on it: its lowest point within
    3 mm of the floor, and no other object's lowest point above its centre within its reach
    sideways. A body on another rests on a top the estimate set from the other's fit, and the
    polish holds its lowest point there: polished, a box carrying a box shrank 2 cm to where
    the other's misfit was drawn best, and left it floating."""
    o = objects[index]
    if abs(_bottom(o)) > _ON_FLOOR:
        return False
    r = reach(o.shape, o.size)
    return not any(
        j != index
        and _bottom(other) > o.position[2]
        and np.hypot(other.position[0] - o.position[0], other.position[1] - o.position[1]) < r
        for j, other in enumerate(objects)
    )


def _bottom(o: ObjectSpec) -> float:
    return float(o.position[2]) - lowest_offset(o.shape, o.size, np.asarray(o.orientation, float))
