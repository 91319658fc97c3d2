"""The carry rule as a judge: how a clip's frames meet the bodies it carries out of sight.

:mod:`twinsim.neural.carry` draws hidden bodies over the pixel model's predictions. The hybrid
predictor has no pixel prediction of a body too small to fit in 3D (20-40 pixels behind a
screen), so it asks the same rule, on the frames alone, where such a body was due: the carried
column of its physics surprise (:func:`carried_surprise`) and the carried bodies drawn over its
rollout (:func:`draw_carried`), which its VoE gate judges.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from twinsim.neural.carry import BodyCarrier

__all__ = ["carried_surprise", "draw_carried"]


def _carried_steps(
    clip: np.ndarray, start: int, base: np.ndarray | None = None
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray, int]]:
    """For each frame t >= ``start`` of a (T, H, W, 3) uint8 ``clip`` (t >= 1): t, the clip as
    float frames, t's prediction with the hidden bodies drawn over ``base[t - start]`` (default
    the frame before), the drawn mask and the drawn body's area, all from the frames before t."""
    clip = np.asarray(clip)
    if not 0 <= start < len(clip):
        raise ValueError(f"start must lie in [0, {len(clip) - 1}] for {len(clip)} frames")
    x = clip.astype(np.float32) / 255
    carrier = BodyCarrier(x[0])
    for t in range(1, len(x)):
        area = carrier.drawn_area
        under = x[t - 1] if base is None or t < start else base[t - start].astype(np.float32) / 255
        pred, drawn = carrier.draw(under)  # before ``start`` too: the rule's state is the same
        if t >= start:
            yield t, x, pred, drawn, area
        carrier.observe(x[t])


def carried_surprise(clip: np.ndarray, start: int) -> np.ndarray:
    """(F,) surprise of frames ``start`` .. T - 1 of a (T, H, W, 3) uint8 ``clip`` from the
    bodies the carry rule follows in the image: each frame is predicted as the frame before with
    the hidden bodies drawn where they come out (:meth:`BodyCarrier.draw`, from every frame
    seen before it), and scored on the drawn pixels by how much worse than the frame before it
    matches what is seen (a carried body due in view and not there, or there in another colour
    or shape), in mean absolute grey levels 0..255 over the body's area; 0 where nothing is
    drawn, the body is where it was due, or (frame 0) nothing came before."""
    out = np.zeros(len(clip) - start)
    for t, x, pred, drawn, area in _carried_steps(clip, start):
        if drawn.any():
            worse = np.abs(pred[drawn] - x[t][drawn]) - np.abs(x[t - 1][drawn] - x[t][drawn])
            out[t - start] = float(np.clip(worse.mean(-1), 0, None).sum()) * 255 / max(area, 1)
    return out


def draw_carried(clip: np.ndarray, start: int, frames: np.ndarray) -> np.ndarray:
    """``frames`` (F, H, W, 3) uint8, a prediction of ``clip``'s frames ``start`` .. start + F - 1
    (start >= 1), with the bodies the carry rule follows drawn over each where they come out,
    one step ahead (from the clip's frames before it)."""
    frames = np.asarray(frames)
    if start < 1 or start + len(frames) > len(clip):
        raise ValueError(
            f"frames {start}..{start + len(frames) - 1} outside the clip's {len(clip)}"
        )
    out = frames.copy()
    for t, _, pred, drawn, _ in _carried_steps(
        np.asarray(clip)[: start + len(frames)], start, frames
    ):
        out[t - start][drawn] = np.rint(pred[drawn] * 255).astype(np.uint8)
    return out
