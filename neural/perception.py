"""The perception network: a small CNN that names the shape class of an object crop, trained
only on engine renders with domain randomisation (camera pose and field of view, colours,
lighting, sizes), bundled in ``assets/perception/`` (safetensors + JSON).

The hybrid uses it to choose which shape class to fit by rendering (a cheap first guess that
spares fitting every class); its probabilities are reported as the shape uncertainty.

Train it again with ``python -m twinsim.neural.perception --out DIR`` (minutes on one CPU thread).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from twinsim.neural.bundled_net import load_small_net, save_small_net
from twinsim.neural.proposals import Blob

if TYPE_CHECKING:
    from twinsim.sim.spec import ObjectSpec

__all__ = [
    "CLASSES",
    "PERCEPTION_DIR",
    "PerceptionConfig",
    "PerceptionNet",
    "crop",
    "load_perception",
    "randomised_scene",
    "scale_bodies",
    "train_perception",
]

CLASSES = ("sphere", "box", "cylinder")
CROP = 24
PERCEPTION_DIR = Path(__file__).resolve().parent.parent / "assets" / "perception"
TRAIN_FAMILIES = ("drop", "collide", "ramp", "projectile", "push", "occlusion", "screen")


@dataclass(frozen=True)
class PerceptionConfig:
    """Training data and optimiser settings (defaults: a few minutes on one CPU thread)."""

    scenes: int = 420
    frame_stride: int = 5
    steps: int = 1500
    batch: int = 64
    lr: float = 2e-3
    seed: int = 0
    width: int = 16

    def __post_init__(self) -> None:
        if self.scenes < 1 or self.steps < 1 or self.batch < 1:
            raise ValueError("scenes, steps and batch must be >= 1")


class PerceptionNet(nn.Module):
    """(B, 4, 24, 24) crop (RGB / 255 and the blob mask) -> (B, 3) shape-class logits."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(4, w, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 4 * w, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(4 * w, len(CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def crop(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(4, 24, 24) float32 input for the blob ``mask`` of (H, W, 3) uint8 ``frame``: a square
    window 1.25x the blob's extent (nearest-neighbour resampled), colours normalised by the
    blob's brightest pixel so the class does not depend on the palette or the light."""
    ys, xs = np.nonzero(mask)
    cy, cx = (ys.min() + ys.max() + 1) / 2, (xs.min() + xs.max() + 1) / 2
    half = 0.625 * max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1, 4)
    grid = (np.arange(CROP) + 0.5) / CROP * 2 * half - half
    yy = np.clip(np.floor(cy + grid).astype(int), 0, frame.shape[0] - 1)
    xx = np.clip(np.floor(cx + grid).astype(int), 0, frame.shape[1] - 1)
    m = mask[yy][:, xx].astype(np.float32)
    rgb = frame[yy][:, xx].astype(np.float32)
    peak = max(1.0, float(frame[mask].max()))
    rgb = rgb / peak * m[..., None]  # the object only, brightness-normalised
    return np.concatenate([rgb.transpose(2, 0, 1), m[None]], 0)


def randomised_scene(family: str, seed: int):
    """A family scene with domain randomisation: camera moved up to 0.3 m and fov 40-65 deg,
    random saturated colours, random light direction and strength, sizes x0.8-1.25."""
    from twinsim.sim import sample_scene
    from twinsim.sim.spec import LightSpec

    spec = sample_scene(family, seed)
    rng = np.random.default_rng([seed, 7])
    cam = spec.cameras[0]
    eye = tuple(float(e + d) for e, d in zip(cam.eye, rng.uniform(-0.3, 0.3, 3), strict=True))
    cam = dataclasses.replace(cam, eye=eye, fov=float(rng.uniform(40, 65)))
    scale = float(rng.uniform(0.8, 1.25))
    objs = []
    for o in scale_bodies(spec.objects, scale):
        hsv = (rng.uniform(0, 1), rng.uniform(0.5, 1.0), rng.uniform(0.35, 0.95))
        col = _hsv_to_rgb(*hsv) if o.mass > 0 else tuple(float(c) for c in o.color[:3])
        objs.append(dataclasses.replace(o, color=(*col, 1.0)))
    d = rng.normal(size=3)
    d[2] = abs(d[2]) + 0.3
    light = LightSpec(
        direction=tuple(float(x) for x in d),
        ambient=float(rng.uniform(0.3, 0.65)),
        diffuse=float(rng.uniform(0.35, 0.8)),
        shadows=False,
    )
    return dataclasses.replace(spec, cameras=(cam,), objects=tuple(objs), light=light)


def scale_bodies(objects: Iterable[ObjectSpec], scale: float) -> tuple[ObjectSpec, ...]:
    """``objects`` (ObjectSpec) with every movable body (mass > 0, not kinematic) ``scale``
    times its size, and lifted by the same factor where it starts low (centre under 0.3 m:
    resting on the floor) so that it still rests there. Scenery is unchanged."""
    out = []
    for o in objects:
        if o.mass > 0 and not o.kinematic:
            z = o.position[2] * scale if o.position[2] < 0.3 else o.position[2]
            o = dataclasses.replace(
                o,
                size=tuple(s * scale for s in o.size),
                position=(o.position[0], o.position[1], z),
            )
        out.append(o)
    return tuple(out)


def _hsv_to_rgb(h: float, s: float, v: float) -> tuple[float, float, float]:
    import colorsys

    return tuple(float(c) for c in colorsys.hsv_to_rgb(h, s, v))


def _dataset(cfg: PerceptionConfig, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    from tqdm import tqdm
    from twinsim.sim import simulate

    xs, ys = [], []
    for i in tqdm(range(cfg.scenes), desc="render", disable=not progress):
        fam = TRAIN_FAMILIES[i % len(TRAIN_FAMILIES)]
        spec = randomised_scene(fam, cfg.seed * 100_000 + i)
        ro = simulate(spec, labels=("rgb", "segmentation"))
        for t in range(0, ro.num_frames, cfg.frame_stride):
            for j, o in enumerate(spec.objects):
                if o.shape not in CLASSES:
                    continue
                m = ro.segmentation[t] == j + 1
                if m.sum() < 8:
                    continue
                xs.append(crop(ro.rgb[t], m))
                ys.append(CLASSES.index(o.shape))
    return np.stack(xs), np.asarray(ys)


def train_perception(
    out: str | Path, cfg: PerceptionConfig | None = None, progress: bool = True
) -> dict:
    """Render randomised scenes, train :class:`PerceptionNet`, write ``out/model.safetensors``
    and ``out/config.json`` (with the held-out accuracy). Returns the info dict."""
    cfg = cfg or PerceptionConfig()
    t0 = time.time()
    x, y = _dataset(cfg, progress)
    rng = np.random.default_rng(cfg.seed)
    idx = rng.permutation(len(x))
    n_val = max(1, len(x) // 10)
    val, tr = idx[:n_val], idx[n_val:]
    torch.manual_seed(cfg.seed)
    net = PerceptionNet(cfg.width)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.steps)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    lossf = nn.CrossEntropyLoss()
    for step in range(cfg.steps):
        b = torch.from_numpy(rng.choice(tr, cfg.batch))
        xb = xt[b]
        if rng.random() < 0.5:
            xb = xb.flip(-1)  # mirror: the families are left-right symmetric
        loss = lossf(net(xb), yt[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if progress and step % 250 == 0:
            print(f"step {step} loss {loss.item():.4f}", flush=True)
    net.eval()
    with torch.no_grad():
        pred = net(xt[torch.from_numpy(val)]).argmax(1).numpy()
    acc = float((pred == y[val]).mean())
    info = {
        "classes": list(CLASSES),
        "crop": CROP,
        "config": dataclasses.asdict(cfg),
        "crops": len(x),
        "val_accuracy": acc,
        "minutes": (time.time() - t0) / 60,
        "families": list(TRAIN_FAMILIES),
    }
    save_small_net(out, net, info)
    return info


class ShapeClassifier:
    """``classifier(frame, blob) -> {shape: probability}`` around a loaded network."""

    def __init__(self, net: PerceptionNet) -> None:
        self.net = net.eval()

    @torch.no_grad()
    def __call__(self, frame: np.ndarray, blob: Blob) -> dict[str, float]:
        x = torch.from_numpy(crop(frame, blob.mask))[None]
        p = torch.softmax(self.net(x), 1)[0].numpy()
        return {c: float(v) for c, v in zip(CLASSES, p, strict=True)}


def load_perception(path: str | Path | None = None) -> ShapeClassifier:
    """The bundled (or the given folder's) shape classifier.

    Raises:
        FileNotFoundError: no ``model.safetensors`` / ``config.json`` there.
    """
    folder = path if path is not None else PERCEPTION_DIR
    net = load_small_net(
        folder,
        lambda info: PerceptionNet(int(info["config"]["width"])),
        "perception model",
        "twinsim.neural.perception",
    )
    return ShapeClassifier(net)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train the hybrid's perception network.")
    ap.add_argument("--out", default=str(PERCEPTION_DIR))
    ap.add_argument("--scenes", type=int, default=PerceptionConfig.scenes)
    ap.add_argument("--steps", type=int, default=PerceptionConfig.steps)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    info = train_perception(a.out, PerceptionConfig(scenes=a.scenes, steps=a.steps, seed=a.seed))
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
