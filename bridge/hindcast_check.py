"""Which backend to trust for a clip: each predicts the clip's last frames from the frames before
them, and the one that did better there continues the clip (``rollout(frames, backend="auto")``).

The hybrid's own uncertainty says how well its estimate explains the frames it saw, not how well
its future will match (its best family, occlusion, scores 0.77 there; docs/hybrid.md). A
hindcast asks the question that matters on frames where the answer can be checked: out of its
range (pastel colours, a moved camera, real footage) the hybrid loses to the neural model's
copy-last-like continuation there too, and on engine-like clips it mostly wins there as it wins
ahead (benchmarks/bench_auto.py: 7 wrong picks in 29 held-out clips; docs/bridge.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from twinsim.neural import WorldModel
    from twinsim.sim import CameraSpec

__all__ = ["HOLDOUT", "MARGIN_DB", "MIN_PAST", "Hindcast", "hindcast"]

HOLDOUT = 3  # last frames of the clip predicted and checked
MIN_PAST = 6  # frames the hindcast starts from (the hybrid fits up to 5 frames per object)
# How far the hybrid must beat the neural model on the held-out frames to be picked (a tie,
# e.g. a still clip, goes to the neural model: milliseconds where the hybrid takes seconds).
# On development windows (seeds 3 000 000+, bench_auto.py) auto averaged 24.09 dB with 0 dB,
# 23.85 with 1 dB; a holdout of 2, 3 or 4 frames made no difference there (24.08-24.09).
MARGIN_DB = 0.0


@dataclass(frozen=True)
class Hindcast:
    """How each backend predicted the last ``holdout`` frames of a clip from the frames before.

    Attributes:
        holdout: frames predicted and checked.
        psnr: per predictor ("hybrid", "neural", "copy_last"), the PSNR (dB) of its prediction
            of those frames, from their pooled squared error (at the neural model's resolution).
        seconds: wall time of the hindcast.
    """

    holdout: int
    psnr: dict[str, float]
    seconds: float

    def choice(self, margin_db: float = MARGIN_DB) -> str:
        """The hybrid when it beat the neural model by more than ``margin_db``, else neural."""
        return "hybrid" if self.psnr["hybrid"] > self.psnr["neural"] + margin_db else "neural"

    def summary(self) -> str:
        """The figures, as a reason can quote them."""
        p = self.psnr
        return (
            f"predicting the clip's last {self.holdout} frames from the ones before, hybrid "
            f"{p['hybrid']:.1f} dB, neural {p['neural']:.1f} dB, copy-last {p['copy_last']:.1f} dB"
        )


def hindcast(
    frames: np.ndarray,
    model: WorldModel,
    holdout: int = HOLDOUT,
    camera: CameraSpec | None = None,
) -> Hindcast:
    """Predict the last ``holdout`` of ``frames`` (T, H, W, 3) uint8 from the ones before with
    the hybrid and the neural ``model`` (and copy-last), at the model's resolution.

    Raises:
        ValueError: fewer than ``MIN_PAST + holdout`` frames, or ``holdout`` < 1.
    """
    from twinsim.neural import metrics as M
    from twinsim.neural.footage import resize_frames
    from twinsim.neural.hybrid import predict_hybrid

    frames = np.asarray(frames)
    if holdout < 1:
        raise ValueError(f"holdout must be >= 1 frame, got {holdout}")
    if len(frames) < MIN_PAST + holdout:
        raise ValueError(
            f"a hindcast needs at least {MIN_PAST + holdout} frames ({MIN_PAST} to start from, "
            f"{holdout} to check), got {len(frames)}"
        )
    t0 = time.perf_counter()
    r = model.resolution
    if frames.shape[1:3] != (r, r):
        frames = resize_frames(frames, r)
    past, truth = frames[:-holdout], frames[-holdout:]
    preds = {
        "hybrid": predict_hybrid(past, holdout, camera=camera).frames,
        "neural": model.predict(past, holdout),
        "copy_last": M.copy_last(past, holdout),
    }
    psnr = {
        name: float(M.mse_to_psnr(np.mean((M.to_unit(p) - M.to_unit(truth)) ** 2)))
        for name, p in preds.items()
    }
    return Hindcast(holdout, psnr, time.perf_counter() - t0)
