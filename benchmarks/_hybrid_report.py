"""Markdown report of ``bench_hybrid.py``'s results (the table it prints and appends to
RESULTS.md). Imported as ``_hybrid_report`` with this folder on ``sys.path``, like ``_common``."""

from __future__ import annotations

import json

import _common
import numpy as np

__all__ = ["balanced_lines", "results_table"]


def results_table(res: dict, horizon: int) -> str:
    """The markdown written to RESULTS.md: per-family PSNR and state errors, PSNR per step
    (``horizon`` steps), then one line per extra measurement (permanence, VoE, out-of-range,
    real footage)."""
    rows = []
    for fam, f in res["families"].items():
        if not f.get("windows"):
            rows.append([fam, 0, *["-"] * 11])
            continue
        m = {n: float(np.mean(f[n])) for n in ("hybrid", "render", "pixel", "copy_last")}
        best = max(m["pixel"], m["copy_last"])
        mean = float(np.mean(f["hybrid_mean"])) if "hybrid_mean" in f else float("nan")
        rows.append(
            [
                fam,
                f["windows"],
                m["hybrid"],
                m["render"],
                m["pixel"],
                m["copy_last"],
                m["hybrid"] - best,
                mean - best,
                f["pos_mm"],
                f["vel_cms"],
                f["class_acc"],
                f["traj_cm"],
                f["uncertainty"],
            ]
        )
    t = _common.markdown_table(
        [
            "family",
            "windows",
            "hybrid dB",
            "render-only dB",
            "pixel model dB",
            "copy-last dB",
            "hybrid - best baseline",
            f"mean of {res.get('samples', 0)} material draws - best baseline",
            "pos err mm (median)",
            "vel err cm/s",
            "shape acc",
            "12-step traj err cm",
            "uncertainty",
        ],
        rows,
    )
    steps = [
        "| step | " + " | ".join(str(s + 1) for s in range(horizon)) + " |",
        "|---" * (horizon + 1) + "|",
    ]
    for name in ("hybrid", "hybrid_mean", "pixel", "copy_last"):
        per = [res["families"][f][name] for f in res["families"] if name in res["families"][f]]
        if per:
            steps.append(f"| {name} | " + " | ".join(f"{x:.1f}" for x in np.mean(per, 0)) + " |")
    pm, vo, oor, ft = res["permanence"], res["voe"], res["out_of_range"], res["footage"]
    faint = [
        f"{fam} {f['faint_windows']} ({f['faint_gain']:+.2f} dB)"
        for fam, f in res["families"].items()
        if f.get("faint_windows")
    ]
    extra = [
        "",
        f"Scenes: seeds {res.get('seed', 2_000_000)} + i (i = 0, 1, ...) in each part.",
        "",
    ]
    if res["families"]:  # a run of the other parts alone prints no empty family tables
        extra += [
            "Faint windows (a few pixels change, nothing visibly moves: `metrics.visible_motion`; "
            "left out of the table above), per family: count (hybrid - copy-last): "
            + ("; ".join(faint) or "none"),
            "",
            "PSNR per step (mean over families):",
            "",
            *steps,
            "",
        ]
    # a part the run skipped prints nothing (not a line of nan)
    if pm["scenes"]:
        extra.append(
            f"- object permanence ({pm['scenes']} occlusion scenes; chance 0.5): hybrid "
            f"{pm['hybrid']:.3f}, pixel model {pm['pixel']:.3f}, copy-last {pm['copy_last']:.3f}"
        )
    if vo["pairs"]:
        extra.append(
            f"- physics-surprise VoE (pairs per kind {vo['pairs']}): per kind "
            + ", ".join(f"{k} {v:.2f}" for k, v in vo["per_kind"].items())
            + f"; balanced {vo['balanced']:.3f}"
        )
    extra += balanced_lines(res.get("balanced_voe") or {})
    if oor:
        extra.append(
            "- out-of-range (camera +0.5/-0.6/+0.5 m, fov 65, pastel colours; mean PSNR 12 "
            "steps): " + ", ".join(f"{k} {v:.2f}" for k, v in oor.items())
        )
    big = res.get("oversized") or {}
    if big:
        extra.append(
            f"- bodies {big['scale']:g}x their family's size (3 scenes, camera given; mean PSNR "
            f"12 steps): hybrid {big['hybrid']:.2f}, copy-last {big['copy_last']:.2f}; "
            f"hybrid uncertainty {big['uncertainty']:.2f}; state errors (medians) position "
            f"{big['pos_mm']:.1f} mm, velocity {big['vel_cms']:.1f} cm/s, shape acc "
            f"{big['class_acc']:.2f}, 12-step trajectory {big['traj_cm']:.1f} cm"
        )
    if ft:
        extra.append(
            "- real footage (held-out clips, camera read from the frames, 8 steps): "
            + json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in ft.items()})
        )
    return (t if res["families"] else "") + "\n" + "\n".join(extra)


def balanced_lines(bv: dict) -> list[str]:
    """Markdown lines of the hybrid's balanced VoE (none when it was skipped)."""
    if not bv:
        return []
    out = [
        "",
        f"Balanced VoE on the pixel model's items ({', '.join(bv['families'])}; an item is right "
        "when its two impossible clips surprise more than its two possible ones):",
        "",
        "| kind | items | hybrid | 95% CI | hybrid gated | copy-last | linear |",
        "|---|---|---|---|---|---|---|",
    ]
    from twinsim.neural.voe import voe_family_line, voe_rows

    for k, items, acc, ci, gated, copy, lin in voe_rows(bv, "hybrid"):
        ci_s = f"{ci[0]:.2f}-{ci[1]:.2f}" if ci else ""
        out.append(f"| {k} | {items} | {acc:.3f} | {ci_s} | {gated:.3f} | {copy:.3f} | {lin:.3f} |")
    family_line = voe_family_line(bv, "hybrid")
    if family_line:
        out += ["", f"- {family_line}"]
    return out
