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
from twinsim.sim.families import families, sample_scene
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
    ap.add_argument("--families", default=None, help="CSV (default: all)")
    ap.add_argument("--framing-seeds", type=int, default=0)
    ap.add_argument("--no-append", action="store_true", help="do not append to RESULTS.md")
    args = ap.parse_args(argv)
    names = args.families.split(",") if args.families else families()
    rows = []
    for fam in names:
        t0 = time.perf_counter()
        fails: collections.Counter[str] = collections.Counter()
        bad = 0
        for seed in range(args.seeds):
            reasons = check(fam, seed)
            bad += bool(reasons)
            for reason in reasons:
                fails[reason.split(" ", 2)[0] + " " + reason.split(": ", 1)[1][:50]] += 1
        rate = 1 - bad / args.seeds
        row = [fam, f"{rate:.1%}", f"{args.seeds - bad}/{args.seeds}"]
        if args.framing_seeds:
            fr = [framing(fam, s) for s in range(args.framing_seeds)]
            row += [f"{np.mean([f[0] for f in fr]):.1%}", f"{np.max([f[0] for f in fr]):.1%}"]
            row += [f"{np.mean([f[1] for f in fr]):.1%}"]
        worst = "; ".join(f"{k} ({v})" for k, v in fails.most_common(2)) or "-"
        row += [f"{time.perf_counter() - t0:.0f}", worst]
        rows.append(row)
        print(" | ".join(row), flush=True)
    head = ["family", "story holds", "seeds"]
    if args.framing_seeds:
        head += ["sky mean", "sky max", "action box / frame"]
    head += ["s", "most common failures"]
    table = _common.markdown_table(head, rows)
    print(table)
    if not args.no_append:
        cmd = "python benchmarks/check_stories.py " + " ".join(argv or sys.argv[1:])
        note = (
            f"{table}\n\n{args.seeds} seeds per family (0..{args.seeds - 1}); the story is checked "
            "from the labels of `simulate(spec, labels=['objects', 'contacts'])`; framing: "
            "sky = pixels at the far plane, action box = pixel box of the moving bodies, mean "
            "over the clip. Measured on a shared 2-core machine (timings include contention)."
        )
        _common.append_results("Family stories (benchmarks/check_stories.py)", note, [cmd])
    return 0


if __name__ == "__main__":
    sys.exit(main())
