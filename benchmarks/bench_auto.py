"""Benchmark of ``rollout(frames, backend="auto")`` on raw clips: does the hindcast rule pick
the backend that predicts the future better?

Per window it runs the hybrid, the neural model and copy-last on the same clip, and the auto
rule's choice (:func:`twinsim.bridge.choose_backend`: a hindcast of the clip's last 3 frames),
on moving windows of six families (held-out seeds, the windows of bench_hybrid.py), on
out-of-range scenes (camera moved, pastel colours) and on held-out real clips. It prints mean
PSNR over the predicted steps per group, how often auto picked the hybrid, and auto against
each single backend and the oracle (the better of the two per window), measured in the same
run, and appends the table to RESULTS.md.

    python benchmarks/bench_auto.py --scenes 4 --footage ../shared/footage --threads 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
from _hybrid_out_of_range import out_of_range_scenes
from _hybrid_windows import CONTEXT_END, FAMILIES, HORIZON, SEED

FOOTAGE_CONTEXT, FOOTAGE_HORIZON = 12, 8
PREDICTORS = ("hybrid", "neural", "copy_last")


def _window(model, clip: np.ndarray, truth: np.ndarray, camera=None) -> dict:
    """Every predictor's and auto's mean PSNR over the steps of one window."""
    from twinsim.bridge.hindcast_check import hindcast
    from twinsim.neural import metrics as M
    from twinsim.neural.hybrid import predict_hybrid

    h = len(truth)
    preds = {
        "hybrid": predict_hybrid(clip, h, camera=camera).frames,
        "neural": model.predict(clip, h),
        "copy_last": M.copy_last(clip, h),
    }
    row = {name: float(M.psnr(p, truth).mean()) for name, p in preds.items()}
    hc = hindcast(clip, model)
    backend = hc.choice()  # what choose_backend does with a raw clip this long
    row.update(
        auto=row[backend],
        picked=backend,
        hindcast=hc.psnr,
        oracle=max(row["hybrid"], row["neural"]),
    )
    return row


def run(args) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    from twinsim.neural import metrics as M
    from twinsim.neural.predict import load_pretrained
    from twinsim.sim import sample_scene, simulate

    model = load_pretrained("cpu")
    groups: dict[str, list[dict]] = {}
    for fam in args.families.split(",") if args.families else ():
        for i in range(args.scenes):
            ro = simulate(sample_scene(fam, args.seed + i), labels=("rgb",))
            k = CONTEXT_END[fam]
            clip, truth = ro.rgb[: k + 1], ro.rgb[k + 1 : k + 1 + HORIZON]
            if not M.visible_motion(clip[-1], truth):
                continue  # a still or faint window: copy-last is (nearly) exact there
            groups.setdefault(fam, []).append(_window(model, clip, truth))
            print(f"{fam} seed {args.seed + i}: {groups[fam][-1]['picked']}", flush=True)
    for fam, spec in out_of_range_scenes():
        ro = simulate(spec, labels=("rgb",))
        k = CONTEXT_END[fam]
        row = _window(model, ro.rgb[: k + 1], ro.rgb[k + 1 : k + 1 + HORIZON])
        groups.setdefault("out of range", []).append(row)
        print(f"out of range {fam}: {row['picked']}", flush=True)
    if args.footage and Path(args.footage).is_dir():
        from twinsim.neural.footage import load_footage

        _, held = load_footage(args.footage, 64).split()
        n = FOOTAGE_CONTEXT + FOOTAGE_HORIZON
        for clip in [c for c in held.clips if len(c.frames) >= n][: args.footage_clips]:
            f = clip.frames
            row = _window(model, f[:FOOTAGE_CONTEXT], f[FOOTAGE_CONTEXT:n])
            groups.setdefault("real footage", []).append(row)
            print(f"footage {clip.name}: {row['picked']}", flush=True)
    return groups


def table(groups: dict[str, list[dict]]) -> str:
    """Mean PSNR per group and predictor, auto's picks and its gaps."""
    rows = []
    every = [r for g in groups.values() for r in g]
    for name, g in [*groups.items(), ("all windows", every)]:
        m = {p: float(np.mean([r[p] for r in g])) for p in (*PREDICTORS, "auto", "oracle")}
        best = max(m["hybrid"], m["neural"])
        picks = sum(r["picked"] == "hybrid" for r in g)
        rows.append(
            (
                name,
                len(g),
                *(f"{m[p]:.2f}" for p in (*PREDICTORS, "auto", "oracle")),
                f"{picks}/{len(g)}",
                f"{m['auto'] - best:+.2f}",
                f"{m['auto'] - m['neural']:+.2f}",
                f"{m['auto'] - m['copy_last']:+.2f}",
            )
        )
    return _common.markdown_table(
        (
            "windows",
            "n",
            "hybrid dB",
            "neural dB",
            "copy-last dB",
            "auto dB",
            "oracle dB",
            "auto picked hybrid",
            "auto - better single backend",
            "auto - neural",
            "auto - copy-last",
        ),
        rows,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenes", type=int, default=4, help="scenes per family (default 4)")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--seed", type=int, default=SEED, help="first scene seed (default held-out)")
    ap.add_argument("--footage", default="../shared/footage", help="real clips (skipped if absent)")
    ap.add_argument("--footage-clips", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--json", help="also write every window's figures here")
    ap.add_argument("--no-write", action="store_true", help="print only; do not touch RESULTS.md")
    args = ap.parse_args()
    t0 = time.time()
    groups = run(args)
    text = table(groups)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(groups, indent=1, default=float))
    if not args.no_write:
        _common.append_results(
            f"auto on raw clips: hindcast rule vs each backend, {time.time() - t0:.0f} s",
            text,
            [" ".join(["python", *sys.argv])],
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
