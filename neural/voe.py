"""Balanced violation-of-expectation items, IntPhys-style, and how they are scored.

Shared by the pixel world model's evaluation (:func:`twinsim.neural.evaluate.balanced_voe`) and
the hybrid's (:mod:`twinsim.neural.hybrid_voe`): the items, the floors of predictors that ignore
physics (copy-last, linear), whether an item is right, and the per-kind summary and table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from twinsim.neural import metrics as M
from twinsim.neural.clips import render_spec

__all__ = [
    "BALANCED_KINDS",
    "FLOORS",
    "VOE_FAMILIES",
    "baseline_surprise",
    "item_family",
    "item_right",
    "summarise_voe",
    "voe_family_line",
    "voe_items",
    "voe_rows",
]

BALANCED_KINDS = {
    "vanish/appear": "vanish",
    "teleport": "teleport",
    "change_shape": "change_shape",
    "change_color": "change_color",
}
VOE_FAMILIES = ("occlusion", "screen")  # families whose violations happen out of sight
FLOORS = ("copy_last", "linear")  # predictors that ignore physics: 0.5 on every kind


def item_family(scene: int) -> str:
    """The family of the ``scene``-th scene of :func:`voe_items` (they alternate)."""
    return VOE_FAMILIES[scene % len(VOE_FAMILIES)]


def _splice_frame(a: np.ndarray, b: np.ndarray, min_run: int = 3) -> int | None:
    """Middle of the longest run of frames (>= ``min_run``) where ``a`` and ``b`` are identical
    (the target is out of sight in both), or None."""
    same = (a == b).all(axis=(1, 2, 3))
    best, start = (0, -1), None
    for t, s in enumerate([*same, False]):
        if s and start is None:
            start = t
        elif not s and start is not None:
            if t - start > best[0]:
                best = (t - start, start)
            start = None
    length, first = best
    if length < min_run or first == 0:
        return None
    return first + length // 2


def voe_items(
    resolution: int,
    n: int,
    seed: int,
    kinds: Iterable[str] = tuple(BALANCED_KINDS),
    before: int = 24,
    after: int = 16,
) -> Iterator[tuple[str, np.ndarray | None]]:
    """Balanced VoE items, IntPhys-style: per kind and seed, a quadruplet (4, T, R, R, 3) of
    two possible clips A (the scene) and B (its swapped twin: the object absent, moved,
    reshaped or recoloured from the first frame on) and two impossible ones spliced from the
    same frames at a frame f where A and B are identical (the object out of sight):
    C = A[:f+1] + B[f+1:], D = B[:f+1] + A[f+1:]. Any predictor that does not remember past
    an occlusion (copy-last, linear) scores the two pairs alike: exactly 0.5. The clips are
    cut to ``before`` frames before the splice and ``after`` after it (the object is seen
    before the occlusion and comes out within them). Yields ``(kind, quadruplet)``, or
    ``(kind, None)`` for a seed without a common hidden stretch.
    """
    from twinsim.sim.families import sample_scene

    kinds = list(kinds)
    for i in range(n):
        fam = item_family(i)
        a = render_spec(sample_scene(fam, seed + i), resolution).rgb[1:]
        for kind in kinds:
            imp = sample_scene(fam, seed + i, impossible=BALANCED_KINDS[kind])
            swapped = dataclasses.replace(imp, violation=dataclasses.replace(imp.violation,
                                                                              frame=1))  # fmt: skip
            b = render_spec(swapped, resolution).rgb[1:]  # changed from frame 1 on: possible
            t = min(len(a), len(b))
            f = _splice_frame(a[:t], b[:t])
            if f is None:
                yield kind, None
                continue
            c = np.concatenate([a[: f + 1], b[f + 1 : t]])
            d = np.concatenate([b[: f + 1], a[f + 1 : t]])
            lo, hi = max(0, f - before), min(t, f + 1 + after)  # around the splice
            yield kind, np.stack([a[lo:hi], b[lo:hi], c[lo:hi], d[lo:hi]])


def baseline_surprise(quad: np.ndarray, skip: int) -> dict[str, np.ndarray]:
    """Summed one-step squared error of each clip of (4, T, H, W, 3) uint8 ``quad`` for the
    predictors that ignore physics (copy-last, linear extrapolation), from step ``skip``: (4,)
    each. They score balanced items 0.5 by construction; measured, not assumed."""
    x = M.to_unit(quad)
    copy = ((x[:, 1:] - x[:, :-1]) ** 2).mean(axis=(2, 3, 4))[:, skip - 1 :]
    pred = np.clip(2 * x[:, 1:-1] - x[:, :-2], 0, 1)
    lin = ((x[:, 2:] - pred) ** 2).mean(axis=(2, 3, 4))[:, skip - 2 :]
    return {"copy_last": copy.sum(1), "linear": lin.sum(1)}


def item_right(surprise: np.ndarray) -> float:
    """1 when the impossible clips (2, 3) of a quadruplet are together more surprising than the
    possible ones (0, 1), 0 when less, 0.5 on a tie (the same frames summed in another order)."""
    poss, imp = surprise[0] + surprise[1], surprise[2] + surprise[3]
    if np.isclose(imp, poss, rtol=1e-9, atol=1e-15):
        return 0.5
    return 1.0 if imp > poss else 0.0


def summarise_voe(
    right: dict[str, dict[str, list[float]]],
    gated: dict[str, list[float]],
    subject: str,
    skipped: dict[str, int],
    families: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Balanced VoE results from per-predictor, per-kind item scores ``right`` (1, 0.5 or 0)
    and the ``subject`` predictor's gated scores: accuracy per kind and overall for every
    predictor, items per kind, the subject's 95 % Wilson intervals and ``{subject}_gated``.
    ``families`` (per kind, each scored item's family, in order) adds ``by_family``: the
    subject's accuracy over all kinds per family, with its item and tie counts (a tie: the
    impossible pair exactly as surprising as the possible one, e.g. nothing remembered)."""
    kinds = list(gated)
    out: dict[str, Any] = {"kinds": kinds, "skipped": skipped, "families": list(VOE_FAMILIES)}
    if families is not None:
        per_family: dict[str, list[float]] = {}
        for k in kinds:
            for fam, x in zip(families[k], right[subject][k], strict=True):
                per_family.setdefault(fam, []).append(x)
        out["by_family"] = {
            fam: {"items": len(xs), subject: float(np.mean(xs)), "ties": xs.count(0.5)}
            for fam, xs in per_family.items()
        }
    for p, per_kind in right.items():
        out[p] = {k: float(np.mean(v)) if v else float("nan") for k, v in per_kind.items()}
        allv = [x for v in per_kind.values() for x in v]
        out[p]["overall"] = float(np.mean(allv)) if allv else float("nan")
    out["items"] = {k: len(v) for k, v in right[subject].items()}
    out["ci95"] = {
        k: list(M.wilson_interval(sum(v), len(v))) if v else [float("nan")] * 2
        for k, v in right[subject].items()
    }
    g = {k: float(np.mean(v)) if v else float("nan") for k, v in gated.items()}
    allg = [x for v in gated.values() for x in v]
    g["overall"] = float(np.mean(allg)) if allg else float("nan")
    out[f"{subject}_gated"] = g
    return out


def voe_rows(results: dict[str, Any], subject: str) -> Iterator[tuple]:
    """Rows of a :func:`summarise_voe` result, one per kind then ``overall``: (kind, items,
    subject's accuracy, its 95 % interval or None, gated accuracy, copy-last, linear)."""
    for k in [*results["kinds"], "overall"]:
        items = results["items"].get(k, sum(results["items"].values()))
        yield (
            k,
            items,
            results[subject][k],
            results["ci95"].get(k),
            results[f"{subject}_gated"][k],
            results["copy_last"][k],
            results["linear"][k],
        )


def voe_family_line(results: dict[str, Any], subject: str) -> str | None:
    """One line of a :func:`summarise_voe` result's ``by_family`` (None without it)."""
    fams = results.get("by_family")
    if not fams:
        return None
    parts = [
        f"{fam} {r[subject]:.3f} ({r['items']} items, {r['ties']} ties)" for fam, r in fams.items()
    ]
    return "per family, all kinds: " + "; ".join(parts)
