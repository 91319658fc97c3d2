"""Does every family tell its story in every seed? Checked from the labels over many seeds.

For each family and seed: ``sample_scene`` -> ``simulate`` with the "objects" and "contacts"
labels (no rendering) -> :func:`twinsim.sim.families.stories.story`; twins whose violation has a
story of its own (a clean pass through the wall, a fall through the table) are checked too.
With ``--framing-seeds K`` it also renders K seeds per family at 64 px and reports the empty
sky (depth at the far plane) and the share of the frame the moving bodies' box covers.

    python benchmarks/check_stories.py --seeds 200 [--families glass,drop] [--no-append]
"""

from __future__ import annotations

import argparse
import collections
import sys
import time

import _common
import numpy as np
from twinsim.sim import simulate
from twinsim.sim.families import family_names, sample_scene
from twinsim.sim.families.stories import story, twin_kinds
from twinsim.sim.families.trace import trace_of_rollout


def check(family: str, seed: int) -> list[str]:
    """Failure reasons (empty: the story holds) for the scene and its story-bearing twins."""
    out = []
    for kind in (None, *twin_kinds(family)):
        spec = sample_scene(family, seed, impossible=kind)
        r = simulate(spec, labels=["objects", "contacts"])
        res = story(trace_of_rollout(r))
        if not res.ok:
            out.append(f"{kind or 'possible'}: {res.reason}")
    return out


def framing(family: str, seed: int) -> tuple[float, float]:
    """(mean sky fraction, mean fraction of the frame inside the moving bodies' pixel box)."""
    spec = sample_scene(family, seed)
    r = simulate(spec, labels=["depth", "segmentation"])
    sky = float((r.depth >= spec.cameras[0].far * 0.999).mean())
    moving = [i + 1 for i, o in enumerate(spec.objects) if o.mass > 0 or o.kinematic]
    boxes = []
    for t in range(r.num_frames):
        ys, xs = np.nonzero(np.isin(r.segmentation[t], moving))
        if len(xs):
            boxes.append((xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1))
    h, w = r.segmentation.shape[1:]
    return sky, float(np.mean(boxes) / (h * w)) if boxes else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--first-seed", type=int, default=0, help="seeds first..first+seeds-1")
    ap.add_argument("--families", default=None, help="CSV (default: all)")
    ap.add_argument("--framing-seeds", type=int, default=0)
    ap.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="stop after this long (seeds go round-robin "
        "over the families, so every family gets the same number of seeds)",
    )
    ap.add_argument("--no-append", action="store_true", help="do not append to RESULTS.md")
    args = ap.parse_args(argv)
    names = args.families.split(",") if args.families else family_names()
    t_start = time.perf_counter()
    fails = {f: collections.Counter() for f in names}
    bad = dict.fromkeys(names, 0)
    secs = dict.fromkeys(names, 0.0)
    done = 0
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        if args.minutes is not None and time.perf_counter() - t_start > 60 * args.minutes:
            break
        for fam in names:
            t0 = time.perf_counter()
            reasons = check(fam, seed)
            secs[fam] += time.perf_counter() - t0
            bad[fam] += bool(reasons)
            for reason in reasons:
                kind, why = reason.split(": ", 1)
                fails[fam][f"{kind}: {why[:60]}"] += 1
                print(f"FAIL {fam} seed {seed} {reason}", flush=True)
        done = seed + 1 - args.first_seed
        if done % 10 == 0:
            print(f"{done} seeds, {time.perf_counter() - t_start:.0f} s", flush=True)
    rows = []
    for fam in names:
        row = [fam, f"{1 - bad[fam] / max(done, 1):.1%}", f"{done - bad[fam]}/{done}"]
        if args.framing_seeds:
            fr = [framing(fam, s) for s in range(args.framing_seeds)]
            row += [f"{np.mean([f[0] for f in fr]):.1%}", f"{np.max([f[0] for f in fr]):.1%}"]
            row += [f"{np.mean([f[1] for f in fr]):.1%}"]
        worst = "; ".join(f"{k} ({v})" for k, v in fails[fam].most_common(2)) or "-"
        row += [f"{secs[fam] / max(done, 1):.1f}", worst]
        rows.append(row)
    head = ["family", "story holds", "seeds"]
    if args.framing_seeds:
        head += ["sky mean", "sky max", "action box / frame"]
    head += ["s / seed", "failures"]
    table = _common.markdown_table(head, rows)
    print(table)
    if not args.no_append:
        cmd = "python benchmarks/check_stories.py " + " ".join(argv or sys.argv[1:])
        note = (
            f"{done} seeds per family ({args.first_seed}..{args.first_seed + done - 1}); the story is checked from the labels of "
            "`simulate(spec, labels=['objects', 'contacts'])` (twins with a story of their own "
            "too); s / seed = sampling (with its physics pre-run and rejections) + simulation. "
            "Framing: sky = pixels at the far plane, action box = pixel box of the moving "
            "bodies, mean over the clip. Measured on a shared 2-core machine under heavy load."
        )
        _common.append_results(
            "Family stories (benchmarks/check_stories.py)", f"{table}\n\n{note}", [cmd]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
