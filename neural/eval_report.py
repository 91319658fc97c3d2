"""Plain-text tables of :func:`twinsim.neural.evaluate.evaluate` results (``twinsim eval``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from twinsim.neural.eval_common import PREDICTORS, SUBSETS
from twinsim.neural.voe import voe_family_line, voe_rows

__all__ = ["format_table"]


def _quality_lines(pq: dict[str, Any], title: str, h: int) -> list[str]:
    lines = []
    for subset in SUBSETS:
        part = pq.get(subset)
        if not part:
            continue
        n = pq["windows"][subset]
        lines.append(f"{title}: {n} {subset} windows, PSNR dB / SSIM per step")
        lines.append("step  model           copy-last       linear")
        for k in range(len(part["model"]["psnr"])):
            row = [f"{part[p]['psnr'][k]:6.2f} / {part[p]['ssim'][k]:.3f}" for p in PREDICTORS]
            lines.append(f"{k + 1:4d}  " + "  ".join(row))
        m = {p: float(np.mean(part[p]["psnr"][:h])) for p in PREDICTORS}
        pl = {p: part[p]["psnr_pooled_all"] for p in PREDICTORS}
        lines.append(
            f"  mean over steps 1..{h}: model {m['model']:.2f}, copy-last {m['copy_last']:.2f} "
            f"({m['model'] - m['copy_last']:+.2f} dB), linear {m['linear']:.2f}"
        )
        lines.append(
            f"  pooled MSE, steps 1..{h}: model {pl['model']:.2f}, copy-last "
            f"{pl['copy_last']:.2f} ({pl['model'] - pl['copy_last']:+.2f} dB), "
            f"linear {pl['linear']:.2f}"
        )
        if subset == "moving":
            ahead = sum(
                part["model"]["psnr"][k] > part["copy_last"]["psnr"][k]
                for k in range(len(part["model"]["psnr"]))
            )
            lines.append(f"  model ahead of copy-last at {ahead} of {h} steps")
            family_line = _family_line(pq.get("moving_by_family"))
            if family_line:
                lines.append(family_line)
    return lines


def _family_line(by_family: dict[str, dict[str, float]] | None) -> str | None:
    """Moving windows per family: the model's mean PSNR over the steps against copy-last's."""
    if not by_family:
        return None
    parts = [
        f"{fam} {r['model'] - r['copy_last']:+.2f} ({r['windows']})" for fam, r in by_family.items()
    ]
    return "  per family, model - copy-last (moving windows): " + "; ".join(parts)


def format_table(results: dict[str, Any]) -> str:
    """Plain-text tables of :func:`evaluate` results."""
    lines = []
    pq = results.get("prediction")
    if pq:
        lines += _quality_lines(pq, "prediction", len(pq.get("moving", pq.get("still", {}))
                                                      .get("model", {}).get("psnr", [])))  # fmt: skip
    cs = results.get("prediction_camera_shift")
    if cs:
        title = f"prediction, cameras shifted {cs['camera_shift_m']} m (out of training range)"
        lines += _quality_lines(cs, title, len(cs.get("moving", {}).get("model", {})
                                              .get("psnr", [])))  # fmt: skip
    pm = results.get("permanence")
    if pm:
        lines.append(
            f"object permanence ({pm['scenes']} scenes, {pm['skipped']} skipped; chance 0.5): "
            f"model {pm['model']:.3f} (gated by the occluder's motion: {pm['model_gated']:.3f}, "
            f"gate passed {pm['gate_passed']}), copy-last {pm['copy_last']:.3f}, "
            f"linear {pm['linear']:.3f}"
        )
    vo = results.get("voe")
    if vo:
        lines.append(
            "violation of expectation, balanced (IntPhys-style quadruplets from "
            f"{', '.join(vo['families'])}; copy-last and linear score 0.5 by construction)"
        )
        lines.append("kind            items  model  95% interval  gated  copy-last  linear")
        for k, items, acc, ci, gated, copy, lin in voe_rows(vo, "model"):
            ci_s = f"{ci[0]:.2f}..{ci[1]:.2f}" if ci else "          "
            lines.append(
                f"{k:14s}  {items:5d}  {acc:.3f}  {ci_s:12s}  {gated:.3f}  {copy:.3f}      {lin:.3f}"
            )
        family_line = voe_family_line(vo, "model")
        if family_line:
            lines.append(family_line)
    rf = results.get("real")
    if rf and rf.get("clips"):
        lines.append(f"real footage ({rf['clips']} held-out windows: {', '.join(rf['held_out'])})")
        lines.append("step  model   copy-last  linear   | pooled MSE: model  copy-last")
        for k in range(len(rf["model"])):
            lines.append(
                f"{k + 1:4d}  {rf['model'][k]:6.2f}  {rf['copy_last'][k]:9.2f}  "
                f"{rf['linear'][k]:6.2f}   | {rf['model_pooled'][k]:17.2f}  "
                f"{rf['copy_last_pooled'][k]:9.2f}"
            )
    if results.get("budget_spent"):
        lines.append("NOTE: the --minutes budget ran out; later stages were cut short or skipped")
    return "\n".join(lines)
