"""Does the world model's flow head move what moves? Its flow against the engine's, per family.

The network is run teacher-forced on the true frames of windows of 18 frames (each step sees
the real frames before it), and each step's warp (backward flow, in pixels) is compared with
the engine's backward flow of the frame it predicts, on the pixels where that flow exceeds
0.5 px (something moves there). Per family: the true and the predicted mean flow magnitude and
the endpoint error (EPE), beside the EPE of zero flow measured on the same pixels (the true
magnitude), and of the constant-velocity guess made without learning from the two newest
frames (`twinsim.neural.motion_prior`, the input of `model.motion_prior`): a flow head worse
than zero moves those pixels the wrong way. docs/neural.md, "Where the motion gain comes from".

    python benchmarks/bench_flow.py --scenes 6 --threads 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

FAMILIES = ("occlusion", "drop", "collide", "ramp")
WINDOW = 18  # frames per teacher-forced window
MOVING_PX = 0.5  # engine flow above this many pixels: the pixel moves
SEED = 2_000_000  # held-out seeds, as the other benchmarks


def family_flow(net, family: str, scenes: int, seed: int, resolution: int) -> dict[str, float]:
    """Mean true and predicted flow magnitude and EPE (model, constant-velocity guess) on
    moving pixels; zero flow's EPE is the true magnitude."""
    import torch
    from twinsim.neural.clips import backward_flow, render_spec
    from twinsim.neural.model import frames_to_tensor
    from twinsim.neural.motion_prior import constant_velocity_flow
    from twinsim.sim import sample_scene

    true_mag, pred_mag, epe, guess_epe, windows = [], [], [], [], 0
    for i in range(scenes):
        ro = render_spec(
            sample_scene(family, seed + i), resolution, labels=("rgb", "flow", "depth")
        )
        flow, valid = backward_flow(ro.flow, ro.depth)
        for s in range(0, len(ro.rgb) - WINDOW + 1, WINDOW):
            clip = frames_to_tensor(ro.rgb[None, s : s + WINDOW])
            with torch.no_grad():
                out = net(clip, 0)
            pred = out.flows[0].permute(0, 2, 3, 1).numpy()  # step t predicts frame t + 1
            n = len(pred)
            # the guess for step t matches frame t to frame t - 1 (the model pads the first
            # step's context with frame 0, so there the guess sees no motion either)
            newest, previous = clip[0, :n], clip[0, [0, *range(n - 1)]]
            guess = constant_velocity_flow(newest, previous).permute(0, 2, 3, 1).numpy()
            truth, ok = flow[s + 1 : s + 1 + n], valid[s + 1 : s + 1 + n]
            moving = ok & (np.linalg.norm(truth, axis=-1) > MOVING_PX)
            if not moving.any():
                continue
            windows += 1
            true_mag.append(np.linalg.norm(truth[moving], axis=-1).mean())
            pred_mag.append(np.linalg.norm(pred[moving], axis=-1).mean())
            epe.append(np.linalg.norm(pred[moving] - truth[moving], axis=-1).mean())
            guess_epe.append(np.linalg.norm(guess[moving] - truth[moving], axis=-1).mean())
    return {
        "windows": windows,
        "true": float(np.mean(true_mag)) if windows else float("nan"),
        "predicted": float(np.mean(pred_mag)) if windows else float("nan"),
        "epe": float(np.mean(epe)) if windows else float("nan"),
        "guess_epe": float(np.mean(guess_epe)) if windows else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ckpt", default="cpu", help="checkpoint folder or bundled name (cpu)")
    ap.add_argument("--scenes", type=int, default=6, help="scenes per family (default 6)")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--seed", type=int, default=SEED, help="first scene seed (default held-out)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--no-write", action="store_true", help="print only; do not touch RESULTS.md")
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(a.threads)
    model = _common.load_world_model(a.ckpt)
    t0 = time.time()
    rows = []
    for fam in a.families.split(","):
        r = family_flow(model.net, fam, a.scenes, a.seed, model.resolution)
        rows.append((fam, r["windows"], f"{r['true']:.2f}", f"{r['predicted']:.2f}",
                     f"{r['epe']:.2f}", f"{r['guess_epe']:.2f}", f"{r['true']:.2f}"))  # fmt: skip
        print(f"{fam}: {r}", flush=True)
    text = _common.markdown_table(
        ("family", "windows", "true flow magnitude px", "predicted magnitude px", "model EPE px",
         "constant-velocity guess EPE px", "zero-flow EPE px"),
        rows,
    )  # fmt: skip
    print(text)
    if not a.no_write:
        _common.append_results(
            f"world-model flow on moving pixels vs constant-velocity guess and zero flow "
            f"({a.ckpt}), {time.time() - t0:.0f} s",
            text,
            [" ".join(["python", *sys.argv])],
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
