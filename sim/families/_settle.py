"""Rejection sampling on the story and camera framing on the motion, shared by the samplers.

A sampler hands :func:`settle` a ``draw(rng) -> Built`` function; ``settle`` runs each draw's
physics once (no rendering), keeps the first whose story holds (its impossible twins' too, where
they have one), and points the camera at the bodies' bounding box over the clip. Everything comes
from the one generator, so ``sample_scene(family, seed)`` stays deterministic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np
from twinsim.sim.families._common import Built, action_bounds, framed_camera
from twinsim.sim.families.stories import story, twin_kinds
from twinsim.sim.families.trace import Trace, run_trace
from twinsim.sim.spec import Violation

__all__ = ["TRIES", "pass_through_at_touch", "settle"]

TRIES = 8  # draws before giving up on the story (the last draw is kept)


def settle(
    rng: np.random.Generator,
    family: str,
    draw: Callable[[np.random.Generator], Built],
    *,
    frame: bool = True,
    crowd: Callable[[str], bool] | None = None,
    twins: Callable[[Trace], Mapping[str, Violation]] | None = None,
    camera: Mapping[str, object] | None = None,
) -> Built:
    """The first draw of ``draw`` whose ``family`` story holds, with a framed camera.

    Args:
        rng: the sampler's generator (the draws and the camera come from it).
        family: whose story to check (:func:`twinsim.sim.families.stories.story`).
        draw: one candidate scene and its twins' violations.
        frame: replace the camera by :func:`framed_camera` on the clip's bounding box.
        crowd: names of many small bodies (framed by percentile, see ``action_bounds``).
        twins: violations computed from the possible scene's trace (merged into the draw's).
        camera: extra keyword arguments for :func:`framed_camera`.
    """
    built, trace = None, None
    for _ in range(TRIES):
        built = draw(rng)
        trace = run_trace(built.spec)
        if twins is not None:
            built = Built(built.spec, {**built.violations, **twins(trace)})
        if _holds(family, built, trace):
            break
    assert built is not None and trace is not None
    if not frame:
        return built
    spec = built.spec
    bounds = action_bounds(spec.names, spec.objects, trace.position, trace.present, crowd)
    cam = framed_camera(rng, bounds, **(camera or {}))
    return Built(dataclasses.replace(spec, cameras=(cam,)), built.violations)


def _holds(family: str, built: Built, trace: Trace) -> bool:
    if not story(trace, family).ok:
        return False
    for kind in twin_kinds(family):
        twin = dataclasses.replace(built.spec, violation=built.violations[kind])
        if not story(run_trace(twin), family).ok:
            return False
    return True


def pass_through_at_touch(body: str, other: str) -> Callable[[Trace], dict[str, Violation]]:
    """``twins`` for :func:`settle`: the solidity twin switched on at the last frame before
    ``body`` first touches ``other`` in the possible scene.

    The two videos are identical up to that frame and differ from the next one on (the bodies
    would have met there), so the labelled frame is where a viewer can see the violation; a
    frame from a closed-form fall or roll time lands several frames early (rolling resistance,
    bounces, a tilted body's lowest corner). Without a touch the twin starts at the last frame
    (the possible scene's story needs the touch, so that draw is rejected anyway).
    """

    def twins(trace: Trace) -> dict[str, Violation]:
        f = trace.touch_frame(body, other)
        f = trace.spec.world.num_frames if f is None else f
        return {"pass_through": Violation("pass_through", body, max(1, f - 1), other=other)}

    return twins
