"""Object permanence for ``twinsim eval``: on occlusion scenes with a matched vanish twin, does
the prediction at the reappearance frame bring the hidden object back?"""

from __future__ import annotations

from typing import Any

import numpy as np
from tqdm import tqdm
from twinsim.neural import metrics as M
from twinsim.neural.clips import render_spec
from twinsim.neural.eval_common import PREDICTORS, Budget
from twinsim.neural.predict import WorldModel

__all__ = ["occlusion_window", "permanence"]


def occlusion_window(possible, body: str, after: int) -> tuple[int, int] | None:
    """(context end c, reappearance r): c hidden at/after ``after``; r first visible after c."""
    tr = possible.track(body)
    vis = tr.visible_fraction
    hidden = np.flatnonzero((vis < 0.05) & tr.present)
    hidden = hidden[hidden >= after]
    if len(hidden) == 0:
        return None
    c = int(hidden[0])
    while c + 1 < len(vis) and vis[c + 1] < 0.05:  # end of this hidden run, shifted to its middle
        c += 1
    c = (int(hidden[0]) + c) // 2
    later = np.flatnonzero(vis[c + 1 :] >= 0.5)
    if len(later) == 0:
        return None
    return c, c + 1 + int(later[0])


def _beats_copy(pred: np.ndarray, truth: np.ndarray, last: np.ndarray, region) -> bool:
    """The prediction's squared error inside ``region`` (H, W) is below copy-last's."""
    if not region.any():
        return False
    p, t, c = (np.asarray(a, np.float64)[region] for a in (pred, truth, last))
    return float(((p - t) ** 2).sum()) < float(((c - t) ** 2).sum())


def permanence(
    model: WorldModel,
    n: int,
    seed: int,
    max_horizon: int = 32,
    progress: bool = True,
    budget: Budget | None = None,
) -> dict[str, Any]:
    """Object permanence on occlusion scenes with a matched vanish twin (chance 0.5).

    A scene counts as *kept* when the prediction at the reappearance frame is closer to the
    possible future than to the vanished one in the object's region. ``gated``: the same, but
    a scene counts only when the model also predicts the occluder's motion (its error where
    the occluder was or is, beats copy-last's): a model that freezes the scene scores 0 there.
    """
    from twinsim.sim.families import family_info, sample_scene

    res = model.resolution
    kept: dict[str, list[float]] = {p: [] for p in PREDICTORS}
    gated: list[float] = []
    skipped = 0
    occ_names = family_info("occlusion").bodies_with_role("occluder")
    bar = tqdm(range(n), desc="permanence", unit="scene", disable=not progress)
    for i in bar:
        if budget is not None and budget.spent():
            bar.write(f"permanence: time budget spent after {i} scenes")
            break
        spec_v = sample_scene("occlusion", seed + i, impossible="vanish")
        body, vframe = spec_v.violation.body, spec_v.violation.frame
        poss = render_spec(spec_v.possible_twin(), res, labels=("rgb", "segmentation", "objects",
                                                                "visibility"))  # fmt: skip
        win = occlusion_window(poss, body, vframe)
        if win is None or win[1] - win[0] > max_horizon:
            skipped += 1
            continue
        c, r = win
        van = render_spec(spec_v, res, labels=("rgb",))
        region = poss.segmentation[r] == poss.spec.names.index(body) + 1
        if not region.any():
            skipped += 1
            continue
        ids = [k + 1 for k, nm in enumerate(poss.spec.names) if nm in occ_names]
        occ = np.isin(poss.segmentation[c : r + 1], ids).any(0) & ~region
        ctx, h = poss.rgb[: c + 1], r - c
        preds = {
            "model": model.predict(ctx, h)[-1],
            "copy_last": M.copy_last(ctx, h)[-1],
            "linear": M.linear_extrapolation(ctx, h)[-1],
        }
        for name, p in preds.items():
            kept[name].append(M.permanence_kept(p, poss.rgb[r], van.rgb[r], region))
        moves = _beats_copy(preds["model"], poss.rgb[r], ctx[-1], occ)
        gated.append(kept["model"][-1] if moves else 0.0)
    out: dict[str, Any] = {"scenes": len(kept["model"]), "skipped": skipped}
    for name, v in kept.items():
        out[name] = float(np.mean(v)) if v else float("nan")
    out["model_gated"] = float(np.mean(gated)) if gated else float("nan")
    out["gate_passed"] = int(sum(1 for g, k in zip(gated, kept["model"], strict=True) if g == k))
    return out
