"""The camera estimator: a small CNN that reads the camera's height, pitch and field of view
from a clip's newest frames, trained only on engine renders (family scenes, half of them
domain-randomised), bundled in ``assets/camera/`` (safetensors + JSON).

A scene on an infinite floor under vertical gravity looks the same from any yaw and any
horizontal position, so only what the pixels can tell is estimated: the eye's height above the
floor, the pitch of the view below the horizontal and the vertical field of view. The camera
returned looks along +y from x = 0 (:func:`camera_from`). Height has no cue but the sizes of
the bodies and how fast they fall, both learned from the families' ranges.

The hybrid uses it when no camera is given. Train it again with
``python -m twinsim.neural.camera_estimate --out DIR`` (minutes on one CPU thread).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from twinsim.neural.bundled_net import load_small_net, save_small_net
from twinsim.neural.footage import resize_frames
from twinsim.sim.spec import CameraSpec

__all__ = [
    "CAMERA_DIR",
    "CameraEstimator",
    "CameraNet",
    "CameraNetConfig",
    "CameraReading",
    "camera_from",
    "camera_reading",
    "load_camera_estimator",
    "train_camera_net",
]

CAMERA_DIR = Path(__file__).resolve().parent.parent / "assets" / "camera"
SIDE = 64  # the network's input side (px); other frames are centre-cropped and resized
OFFSETS = (6, 3, 0)  # frames before the newest the network sees: motion says the scale
_TRAIN_SEED = 5_000_000  # clear of the world model's and the benchmarks' seeds (2_000_000)
_EYE_DISTANCE = 1.8  # horizontal distance of the returned eye from the point it looks at (m)
# (mean, spread) of each read-out, so the network regresses numbers near unit size
_NORM = {"height": (1.1, 0.4), "pitch": (25.0, 8.0), "fov": (52.0, 8.0)}


@dataclass(frozen=True)
class CameraReading:
    """What the pixels say of a camera: eye height above the floor (m), pitch of the view below
    the horizontal (deg) and vertical field of view (deg)."""

    height: float
    pitch: float
    fov: float

    def camera(self, width: int = SIDE, height: int = SIDE) -> CameraSpec:
        """This reading as a :class:`CameraSpec` (see :func:`camera_from`)."""
        return camera_from(self, width, height)


def camera_reading(camera: CameraSpec) -> CameraReading:
    """The height, pitch and fov of ``camera`` (its pose at t = 0; ``path`` is ignored)."""
    eye, tgt = np.asarray(camera.eye, float), np.asarray(camera.target, float)
    d = tgt - eye
    pitch = math.degrees(math.atan2(-d[2], math.hypot(d[0], d[1])))
    return CameraReading(float(eye[2]), float(pitch), float(camera.fov))


def camera_from(reading: CameraReading, width: int = SIDE, height: int = SIDE) -> CameraSpec:
    """A camera at ``reading``'s height, pitch and fov, at x = 0 looking along +y (where on
    the floor, and from which side, is not observable and does not change what it sees).

    A network's reading of frames unlike its training ones can be anything: the height is kept
    above the floor (>= 5 cm) and the pitch within +-85 deg, so a camera always results."""
    eye_z = float(np.clip(reading.height, 0.05, 100.0))
    drop = _EYE_DISTANCE * math.tan(math.radians(float(np.clip(reading.pitch, -85.0, 85.0))))
    return CameraSpec(
        width=width,
        height=height,
        fov=float(np.clip(reading.fov, 1.0, 170.0)),
        eye=(0.0, -_EYE_DISTANCE, eye_z),
        target=(0.0, 0.0, eye_z - drop),
        far=80.0,
    )


@dataclass(frozen=True)
class CameraNetConfig:
    """Training data and optimiser settings (the defaults trained the bundled model: 8.4
    minutes with ``--workers 2``; rendering the 2540 scenes dominates)."""

    scenes: int = 2400
    windows: int = 4  # training windows per scene (newest frame drawn at random)
    val_scenes: int = 140
    steps: int = 4000
    batch: int = 64
    lr: float = 2e-3
    seed: int = 0
    width: int = 16

    def __post_init__(self) -> None:
        for f in ("scenes", "windows", "val_scenes", "steps", "batch", "width"):
            if getattr(self, f) < 1:
                raise ValueError(f"{f} must be >= 1, got {getattr(self, f)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")


class CameraNet(nn.Module):
    """(B, 3 * len(OFFSETS), 64, 64) frames in [0, 1] -> (B, 3) normalised (height, pitch, fov).

    Strided convolutions then a fully connected read-out, not a global pool: *where* in the
    image the floor and the bodies are is the cue."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        w = width
        layers: list[nn.Module] = []
        cin = 3 * len(OFFSETS)
        for cout in (w, 2 * w, 4 * w, 4 * w):  # 64 -> 32 -> 16 -> 8 -> 4
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.ReLU()]
            cin = cout
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Sequential(nn.Linear(4 * w * 16, 128), nn.ReLU(), nn.Linear(128, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def _window(frames: np.ndarray, t: int) -> np.ndarray:
    """(3 * len(OFFSETS), 64, 64) uint8: frames t - 6, t - 3, t (clamped at 0), channels first."""
    picks = [frames[max(0, t - o)] for o in OFFSETS]
    return np.concatenate([f.transpose(2, 0, 1) for f in picks], 0)


def _encode(r: CameraReading) -> np.ndarray:
    return np.array([(getattr(r, k) - m) / s for k, (m, s) in _NORM.items()], np.float32)


def _decode(v: np.ndarray) -> CameraReading:
    return CameraReading(*(float(v[i] * s + m) for i, (m, s) in enumerate(_NORM.values())))


def _square(frames: np.ndarray) -> tuple[np.ndarray, float]:
    """Frames centre-cropped to a square and resized to 64 px, and the factor from the crop's
    tan(fov / 2) to the full frame's (the fov is vertical: a crop of a tall frame cuts it)."""
    h, w = frames.shape[1:3]
    sq = resize_frames(frames, SIDE) if (h, w) != (SIDE, SIDE) else frames
    return sq, h / min(h, w)


class CameraEstimator:
    """``estimator(frames) -> CameraReading`` around a loaded :class:`CameraNet`."""

    def __init__(self, net: CameraNet) -> None:
        self.net = net.eval()

    @torch.no_grad()
    def __call__(self, frames: np.ndarray, windows: int = 4) -> CameraReading:
        """Read the camera of (T, H, W, 3) uint8 ``frames``: the mean over up to ``windows``
        windows ending at frames spread over the clip's second half (the camera is fixed)."""
        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or not len(frames):
            raise ValueError(
                f"frames must be uint8 (T, H, W, 3) with T >= 1, got {frames.dtype} {frames.shape}"
            )
        sq, tan_factor = _square(frames)
        T = len(sq)
        ends = sorted(set(np.linspace(T // 2, T - 1, max(1, windows)).round().astype(int)))
        x = torch.from_numpy(np.stack([_window(sq, t) for t in ends])).float() / 255.0
        out = self.net(torch.cat([x, x.flip(-1)])).mean(0).numpy()  # mirror: same camera
        r = _decode(out)
        fov = math.degrees(2 * math.atan(math.tan(math.radians(r.fov) / 2) * tan_factor))
        return dataclasses.replace(r, fov=fov)


def load_camera_estimator(path: str | Path | None = None) -> CameraEstimator:
    """The bundled (or the given folder's) camera estimator.

    Raises:
        FileNotFoundError: no ``model.safetensors`` / ``config.json`` there.
    """
    folder = path if path is not None else CAMERA_DIR
    net = load_small_net(
        folder,
        lambda info: CameraNet(int(info["config"]["width"])),
        "camera estimator",
        "twinsim.neural.camera_estimate",
    )
    return CameraEstimator(net)


def _scene(i: int, seed: int):
    """Scene ``i`` of the training stream: the families in turn, every other one randomised."""
    from twinsim.neural.perception import TRAIN_FAMILIES, randomised_scene
    from twinsim.sim import sample_scene

    fam = TRAIN_FAMILIES[i % len(TRAIN_FAMILIES)]
    s = _TRAIN_SEED + seed * 100_000 + i
    return randomised_scene(fam, s) if (i // len(TRAIN_FAMILIES)) % 2 else sample_scene(fam, s)


def _windows(i: int, cfg: CameraNetConfig) -> tuple[np.ndarray, np.ndarray]:
    """Scene ``i``'s training windows and their (equal) normalised labels; seeded per scene,
    so the data do not depend on how the scenes are shared among processes."""
    from twinsim.sim import simulate

    spec = _scene(i, cfg.seed)
    cam = dataclasses.replace(spec.cameras[0], width=SIDE, height=SIDE)
    spec = dataclasses.replace(spec, cameras=(cam, *spec.cameras[1:]))
    rgb = simulate(spec, labels=("rgb",)).rgb
    ts = np.random.default_rng([cfg.seed, i]).integers(OFFSETS[0], len(rgb), cfg.windows)
    label = _encode(camera_reading(cam))
    return np.stack([_window(rgb, int(t)) for t in ts]), np.stack([label] * len(ts))


def _dataset(
    first: int, count: int, cfg: CameraNetConfig, progress: bool, desc: str, workers: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    from tqdm import tqdm

    scenes = range(first, first + count)
    job = partial(_windows, cfg=cfg)
    bar = partial(tqdm, total=count, desc=desc, disable=not progress)
    if workers == 1:
        parts = [job(i) for i in bar(scenes)]
    else:
        with ProcessPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            parts = list(bar(pool.map(job, scenes, chunksize=16)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def train_camera_net(
    out: str | Path, cfg: CameraNetConfig | None = None, progress: bool = True, workers: int = 1
) -> dict:
    """Render family scenes, train :class:`CameraNet`, write ``out/model.safetensors`` and
    ``out/config.json`` (with the held-out median errors). Returns the info dict.
    ``workers`` processes render the scenes (the data do not depend on their number)."""
    cfg = cfg or CameraNetConfig()
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    t0 = time.time()
    x, y = _dataset(0, cfg.scenes, cfg, progress, "render (train)", workers)
    xv, yv = _dataset(cfg.scenes, cfg.val_scenes, cfg, progress, "render (held out)", workers)
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    net = CameraNet(cfg.width)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.steps)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for step in range(cfg.steps):
        b = torch.from_numpy(rng.integers(0, len(x), cfg.batch))
        xb = xt[b].float() / 255.0
        if rng.random() < 0.5:
            xb = xb.flip(-1)  # mirror: the same camera
        loss = nn.functional.smooth_l1_loss(net(xb), yt[b], beta=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if progress and step % 500 == 0:
            print(f"step {step} loss {loss.item():.4f}", flush=True)
    net.eval()
    with torch.no_grad():
        pv = torch.cat([net(torch.from_numpy(c).float() / 255.0) for c in np.array_split(xv, 8)])
    err = np.abs(pv.numpy() - yv) * np.array([s for _m, s in _NORM.values()])
    info = {
        "offsets": list(OFFSETS),
        "side": SIDE,
        "config": dataclasses.asdict(cfg),
        "windows": len(x),
        "held_out_median_error": {k: float(np.median(err[:, i])) for i, k in enumerate(_NORM)},
        "minutes": (time.time() - t0) / 60,
    }
    save_small_net(out, net, info)
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train the hybrid's camera estimator.")
    ap.add_argument("--out", default=str(CAMERA_DIR), help="folder to write (default: bundled)")
    ap.add_argument("--scenes", type=int, default=CameraNetConfig.scenes)
    ap.add_argument("--steps", type=int, default=CameraNetConfig.steps)
    ap.add_argument("--windows", type=int, default=CameraNetConfig.windows,
                    help="training windows per scene")  # fmt: skip
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--workers", type=int, default=1, help="rendering processes (default 1)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    cfg = CameraNetConfig(scenes=a.scenes, steps=a.steps, windows=a.windows, seed=a.seed)
    print(json.dumps(train_camera_net(a.out, cfg, workers=a.workers), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
