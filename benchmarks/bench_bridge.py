"""Engine vs neural cost per frame through ``twinsim.bridge``, at batch 1 and 32.

Rows (64x64 frames, best of ``--repeats``):

* raw loop (baseline): the bare PyBullet stepSimulation + getCameraImage loop (``_common.raw_loop``);
* engine, rgb only / with the checker's labels (rgb + segmentation) / with the default bridge
  labels (+ objects, visibility, camera): ``bridge.rollout(backend="engine")``; the engine has no
  batch, so batch 32 is 32 scenes one after another;
* neural: ``WorldModel.predict_batch`` on B clips of K context frames, ``--horizon`` frames
  ahead (batch 1 is ``bridge.rollout(backend="neural")`` on raw frames);
* copy-last (the trivial predictor) for scale.

``--threads`` torch threads (default 1, the fair comparison with the one-core engine).

    python benchmarks/bench_bridge.py [--frames 48] [--horizon 16] [--batch 32] [--threads 1]

Prints a markdown table and appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from twinsim.bridge import rollout
from twinsim.bridge.rollout_api import with_frames
from twinsim.sim import sample_scene

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--family", default="occlusion")
    ap.add_argument("--frames", type=int, default=48, help="engine frames per scene")
    ap.add_argument("--horizon", type=int, default=16, help="neural frames predicted per clip")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model", default="cpu")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    import torch
    from twinsim.neural import load_pretrained

    torch.set_num_threads(args.threads)
    model = load_pretrained(args.model)
    specs = [with_frames(sample_scene(args.family, s), args.frames) for s in range(args.batch)]
    rows = []

    def engine_row(name: str, labels, batch: int) -> float:
        s = best(
            lambda: [rollout(sp, backend="engine", labels=labels) for sp in specs[:batch]],
            args.repeats,
        )
        return s / (batch * args.frames)

    raw1 = best(lambda: _common.raw_loop(specs[0]), args.repeats) / args.frames
    raw32 = best(lambda: [_common.raw_loop(sp) for sp in specs], 1) / (args.batch * args.frames)
    rows.append(["raw PyBullet loop (baseline)", raw1, raw32])
    for name, labels in (
        ("engine, rgb", ["rgb"]),
        ("engine, rgb + segmentation (checker)", ["rgb", "segmentation"]),
        ("engine, bridge default labels", None),
    ):
        rows.append([name, engine_row(name, labels, 1), engine_row(name, labels, args.batch)])
    k = model.context
    ctx = np.stack([rollout(sp, k, backend="engine", labels=["rgb"]).frames for sp in specs])
    n1 = best(lambda: rollout(ctx[0], args.horizon, backend="neural", model=model), args.repeats)
    nb = best(lambda: model.predict_batch(ctx, args.horizon), args.repeats)
    rows.append([f"neural '{args.model}'", n1 / args.horizon, nb / (args.batch * args.horizon)])
    c1 = best(lambda: np.repeat(ctx[0, -1:], args.horizon, 0), args.repeats)
    cb = best(lambda: np.repeat(ctx[:, -1:], args.horizon, 1), args.repeats)
    rows.append(["copy-last", c1 / args.horizon, cb / (args.batch * args.horizon)])
    table = _common.markdown_table(
        ["backend", "ms/frame batch 1", f"ms/frame batch {args.batch}", "frames/s batch 1",
         f"frames/s batch {args.batch}", "x raw loop (batch 1)", f"x raw loop (batch {args.batch})"],
        [[n, a * 1e3, b * 1e3, 1 / a, 1 / b, a / raw1, b / raw32] for n, a, b in rows],
    )  # fmt: skip
    note = (
        f"\n64x64 frames, family {args.family}, {args.frames} engine frames per scene, neural "
        f"context {k} + horizon {args.horizon}, torch threads {args.threads}; best of "
        f"{args.repeats} (raw loop at batch {args.batch}: 1 run). Shared 2-core machine.\n"
    )
    print(table + note)
    if not args.no_append:
        _common.append_results(
            "Bridge: engine vs neural cost per frame (batch 1 and 32)",
            table + note,
            ["python benchmarks/bench_bridge.py " + " ".join(sys.argv[1:])],
        )


if __name__ == "__main__":
    main()
