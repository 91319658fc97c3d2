"""The hybrid's violation of expectation on the pixel model's balanced items.

Each item is a quadruplet from :func:`twinsim.neural.evaluate.voe_items`: two possible clips
A and B and two impossible ones spliced from the same frames (C = A's start + B's end, D = B's
start + A's end). The hybrid estimates the scene from the frames A and C share (and from those
B and D share), lets the engine play it forward, and scores each clip's continuation against
that expectation (:func:`~twinsim.neural.surprise.surprise_table`, summed over the objects, the
bodies followed in the image while out of sight and the unexplained residue, then averaged over
frames: a per-frame maximum would let a misfitted object hide the difference on another). An
item is right when C and D together surprise it more than A and B. A predictor that ignores
physics scores 0.5 on every kind; the copy-last and linear floors are measured on the same
items.

Freezing cannot score: an item counts in ``gated`` only if the expectation also predicts clip
A's motion better than copy-last (its error on the pixels that change beats copy-last's); the
expectation is the engine's rollout with the bodies the carry rule follows drawn over it one
step ahead (:func:`~twinsim.neural.carry_judge.draw_carried`), as the surprise measures them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from tqdm import tqdm
from twinsim.neural import metrics as M
from twinsim.neural.carry_judge import draw_carried
from twinsim.neural.surprise import expected_rollout, surprise_table
from twinsim.neural.voe import (
    BALANCED_KINDS,
    FLOORS,
    baseline_surprise,
    item_family,
    item_right,
    summarise_voe,
    voe_items,
)

__all__ = ["hybrid_balanced_voe", "score_item"]

_PREDICTORS = ("hybrid", *FLOORS)


def _shared_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """Number of leading frames in which clips ``a`` and ``b`` are identical."""
    same = (a == b).all(axis=(1, 2, 3))
    return int(np.argmin(same)) if not same.all() else len(a)


def score_item(quad: np.ndarray, camera, **options: Any) -> dict[str, Any]:
    """Surprise of the four clips of one (4, T, H, W, 3) uint8 item: per predictor (4,) and
    whether the hybrid's expectation moves with clip A (the gate)."""
    ctx = _shared_prefix(quad[0], quad[2])
    t = quad.shape[1]
    if not 2 <= ctx < t:
        raise ValueError(f"clips A and C share {ctx} of {t} frames: not a spliced item")
    surprise = np.zeros(4)
    gate = False
    for first, second in ((0, 2), (1, 3)):  # A and C share A's start; B and D share B's
        exp = expected_rollout(quad[first][:ctx], t - ctx, camera, **options)
        for i in (first, second):
            surprise[i] = float(surprise_table(exp, quad[i][ctx:], quad[i]).sum(1).mean())
        if first == 0:
            truth = M.to_unit(quad[0][ctx:])
            last = M.to_unit(quad[0][ctx - 1])[None]
            moving = np.abs(truth - last).max(-1, keepdims=True) > 0
            # the expectation the surprise is measured against: the carried bodies are in it
            pred = M.to_unit(draw_carried(quad[0], ctx, exp.rgb[: t - ctx]))
            gate = float((((pred - truth) ** 2) * moving).sum()) < float(
                (((last - truth) ** 2) * moving).sum()
            )
    base = baseline_surprise(quad[:, max(0, ctx - 3) :], 2)
    return {"hybrid": surprise, **base, "gate": gate, "context": ctx}


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)  # one process per core: torch's own threads would oversubscribe


def _job(args):
    kind, quad, camera, family, options = args
    return kind, family, score_item(quad, camera, **options)


def _items(n: int, seed: int, kinds: list[str]):
    """(kind, quadruplet or None, camera, family) of each item of :func:`voe_items`."""
    from twinsim.sim import sample_scene

    for j, (kind, quad) in enumerate(voe_items(64, n, seed, kinds)):
        family = item_family(j // len(kinds))
        camera = sample_scene(family, seed + j // len(kinds)).cameras[0]
        yield kind, quad, camera, family


def hybrid_balanced_voe(
    n: int,
    seed: int,
    kinds: Iterable[str] = tuple(BALANCED_KINDS),
    workers: int = 1,
    progress: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Balanced VoE accuracy of the hybrid per kind on ``n`` items per kind (64 px, the camera
    given), with 95 % Wilson intervals, the gated accuracy and the copy-last and linear floors.
    ``workers`` processes score items in parallel; ``options`` go to the estimator."""
    kinds = list(kinds)
    right: dict[str, dict[str, list[float]]] = {p: {k: [] for k in kinds} for p in _PREDICTORS}
    gated: dict[str, list[float]] = {k: [] for k in kinds}
    families: dict[str, list[str]] = {k: [] for k in kinds}
    skipped = {k: 0 for k in kinds}
    jobs = []
    for kind, quad, camera, family in _items(n, seed, kinds):
        if quad is None:
            skipped[kind] += 1
        else:
            jobs.append((kind, quad, camera, family, options))
    bar = tqdm(total=len(jobs), desc="hybrid voe items", unit="item", disable=not progress)
    with contextlib.ExitStack() as stack:
        results = map(_job, jobs)
        if workers > 1:  # spawned: a forked child of a process running torch or PyBullet threads
            # can deadlock
            ctx = multiprocessing.get_context("spawn")
            pool = stack.enter_context(
                ProcessPoolExecutor(workers, mp_context=ctx, initializer=_one_thread)
            )
            results = pool.map(_job, jobs)
        for kind, family, s in results:
            bar.update()
            families[kind].append(family)
            for p in _PREDICTORS:
                right[p][kind].append(item_right(s[p]))
            gated[kind].append(right["hybrid"][kind][-1] if s["gate"] else 0.0)
    bar.close()
    return summarise_voe(right, gated, "hybrid", skipped, families)
