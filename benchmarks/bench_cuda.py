"""CUDA check and GPU figures of the neural world model (run it on a machine with a GPU).

1. Equivalence: the same weights give the same rollout on CPU and on the device (float
   tolerance), and the bundled `cpu` model's uint8 predictions agree pixel for pixel but for
   rounding.
2. Throughput: prediction frames/s (8 context -> 16 predicted frames) at batch 1 and 32 on the
   device and on this machine's CPU in the same run, and seconds per training step (batch 12).
3. With ``--train-minutes M``: trains the `cpu` preset on the device for M minutes, the step
   count sized from the measured step time so the learning-rate schedule completes, and keeps
   the checkpoint in ``--out`` (evaluate it anywhere with `twinsim eval`).

Scenes are simulated with the preset's data seed, or read from ``--scenes NPZ`` (arrays
``train`` and ``val``; write one with ``--save-scenes NPZ``) on a GPU machine without PyBullet.

    python benchmarks/bench_cuda.py [--train-minutes 5] [--footage ../shared/footage] [--out runs/gpu]

Prints JSON and a table, and appends the table to benchmarks/RESULTS.md (unless --no-append).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from twinsim.neural.model import FlowMemoryNet
from twinsim.neural.predict import PRETRAINED, WorldModel
from twinsim.neural.presets import preset

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

# twinsim.neural re-exports the train() function under the module's name
T = importlib.import_module("twinsim.neural.train")


def scenes(path: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) uint8 scenes of the `cpu` preset: from an npz, or simulated."""
    if path is not None and Path(path).is_file():
        z = np.load(path)
        return z["train"], z["val"]
    from twinsim.neural.data import synthetic_scenes

    d = preset("cpu").data
    n_val = max(4, min(32, d.scenes // 8))  # as train.py does
    train = synthetic_scenes(d.families, d.scenes, d.frames, 64, d.seed, True)
    val = synthetic_scenes(d.families, n_val, d.frames, 64, d.seed + T.VAL_SEED_OFFSET, True)
    return train, val


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def predict_fps(model: WorldModel, val: np.ndarray, batch: int, reps: int = 5) -> float:
    """Predicted frames/s, 8 context frames -> 16 predicted, at ``batch`` clips per call."""
    ctx = np.resize(val[:, :8], (batch, *val.shape[1:]))[:, :8]
    model.predict_batch(ctx, 16)
    _sync(model.device)
    t = time.perf_counter()
    for _ in range(reps):
        model.predict_batch(ctx, 16)
    _sync(model.device)
    return batch * 16 * reps / (time.perf_counter() - t)


def train_step_seconds(train: np.ndarray, device: str, steps: int = 20) -> float:
    """Seconds per optimiser step of the `cpu` preset at batch 12 on ``device``."""
    cfg = preset("cpu")
    model = FlowMemoryNet(cfg.model).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batch = T.to_tensor(train[:12, : cfg.data.clip_length], device)

    def step() -> None:
        loss = T._loss(model, {"rgb": batch}, cfg)  # the frame loss (labels need the engine)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    _sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return (time.perf_counter() - t) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--scenes", default=None, help="npz with train/val scenes (else simulate)")
    ap.add_argument("--save-scenes", default=None, help="write the simulated scenes here, exit")
    ap.add_argument("--footage", default=None, help="real footage mixed into training")
    ap.add_argument("--train-minutes", type=float, default=0.0, help="0: no training run")
    ap.add_argument("--out", default="runs/gpu", help="checkpoint folder of the training run")
    ap.add_argument("--no-append", action="store_true", help="print only")
    args = ap.parse_args()
    train, val = scenes(args.scenes)
    if args.save_scenes:
        np.savez_compressed(args.save_scenes, train=train, val=val)
        return
    dev = args.device
    if dev == "cuda" and not torch.cuda.is_available():
        raise SystemExit("CUDA is not available here; this benchmark needs a GPU (--device cpu)")
    res: dict = {"torch": torch.__version__}
    res["device"] = torch.cuda.get_device_name(0) if dev == "cuda" else "cpu"
    cfg = preset("cpu")
    torch.manual_seed(0)
    net = FlowMemoryNet(cfg.model).eval()
    clips = T.to_tensor(val[:4, :12])
    with torch.no_grad():
        a = net.rollout(clips[:, :6], 6).future
        b = net.to(dev).rollout(clips[:, :6].to(dev), 6).future.cpu()
    res["rollout_max_abs_diff"] = float((a - b).abs().max())
    cpu_m, dev_m = WorldModel.load(PRETRAINED["cpu"]), WorldModel.load(PRETRAINED["cpu"], dev)
    pc, pg = cpu_m.predict_batch(val[:8, :8], 16), dev_m.predict_batch(val[:8, :8], 16)
    diff = np.abs(pc.astype(int) - pg.astype(int))
    res["bundled_uint8_max_diff"] = int(diff.max())
    res["bundled_pixels_differing"] = float((diff > 0).mean())
    for bs in (1, 32):
        res[f"predict_fps_b{bs}_{dev}"] = predict_fps(dev_m, val, bs)
        res[f"predict_fps_b{bs}_cpu"] = predict_fps(cpu_m, val, bs)
    res["train_step_s"] = train_step_seconds(train, dev)
    if args.train_minutes > 0:
        steps = max(50, int(args.train_minutes * 60 / (res["train_step_s"] * 1.25)))
        tc = dataclasses.replace(cfg.train, steps=steps, val_every=max(1, steps // 8))
        run = Path(args.out)
        t = time.perf_counter()
        r = T.train(
            cfg.replace(train=dataclasses.replace(tc, ckpt_every=steps)),
            run,
            footage=args.footage,
            device=dev,
            minutes=args.train_minutes * 1.1,
            progress=False,
        )
        res["train"] = {
            "steps": r.steps,
            "seconds": time.perf_counter() - t,
            "footage": args.footage,
            "val_psnr": r.val_psnr,
            "val_copy_last": r.val_copy_last_psnr,
        }
        ck = run / json.loads((run / "last.json").read_text())["checkpoint"]
        for name in ("model.safetensors", "config.json"):
            shutil.copy(ck / name, run / name)  # the run folder loads as a checkpoint too
    print(json.dumps(res, indent=1))
    rows = [
        ("same weights, CPU vs device: max abs diff of a 6-step rollout", res["rollout_max_abs_diff"]),
        ("bundled model uint8 predictions: max diff (share of pixels differing)",
         f"{res['bundled_uint8_max_diff']} ({res['bundled_pixels_differing']:.5f})"),
    ]  # fmt: skip
    for bs in (1, 32):
        g, c = res[f"predict_fps_b{bs}_{dev}"], res[f"predict_fps_b{bs}_cpu"]
        rows.append(
            (
                f"predict frames/s, batch {bs}: {dev} (CPU, ratio)",
                f"{g:.0f} ({c:.0f}, {g / c:.1f}x)",
            )
        )
    rows.append(("train step, batch 12, `cpu` preset (s)", f"{res['train_step_s']:.3f}"))
    if "train" in res:
        tr = res["train"]
        rows.append(("training run: steps in s; val PSNR (copy-last)",
                     f"{tr['steps']} in {tr['seconds']:.0f}; {tr['val_psnr']:.2f} ({tr['val_copy_last']:.2f})"))  # fmt: skip
    table = _common.markdown_table(["what", res["device"]], rows)
    print(table)
    if not args.no_append:
        _common.append_results(
            "bench_cuda: CUDA check and GPU figures", table, [" ".join(sys.argv)]
        )


if __name__ == "__main__":
    main()
