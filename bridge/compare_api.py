"""compare(): run the engine and the neural model on one scene and check the prediction.

The model starts from ``context`` engine frames (the first ones, or from frame ``start``) and
predicts ``horizon`` more; the
report holds the per-step error against the engine (MSE, PSNR, beside copy-last-frame, the
baseline a frozen prediction gets), the physics checker's findings on the prediction (against
the engine's labels), and, with ``out=DIR``, ``compare.json``, a side-by-side video (engine |
neural | difference, findings marked) as ``side_by_side.mp4`` and ``.webm``, and ``error.png``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from twinsim.bridge.checker import CheckerConfig, CheckReport, check_physics
from twinsim.bridge.rollout_api import Cost, RolloutResult, load_scene_or_frames, rollout

if TYPE_CHECKING:
    from twinsim.neural import WorldModel
    from twinsim.sim import SceneSpec

__all__ = ["CompareReport", "compare", "psnr"]


def psnr(mse: np.ndarray) -> np.ndarray:
    """PSNR in dB of per-frame MSE on 0..1 pixels (capped at 100 dB for identical frames)."""
    mse = np.asarray(mse, float)
    return np.where(mse > 1e-10, 10 * np.log10(1.0 / np.maximum(mse, 1e-10)), 100.0)


def _mse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = a.astype(np.float32) / 255 - b.astype(np.float32) / 255
    return (d**2).mean(axis=(1, 2, 3))


@dataclass
class CompareReport:
    """Engine vs neural on one scene.

    Attributes:
        engine: the engine's rollout (frames 0..start+K+horizon-1, with labels).
        neural: the model's rollout (frames start+K..start+K+horizon-1).
        context: K.
        mse, psnr: (horizon,) per-step error of the prediction against the engine.
        copy_last_psnr: (horizon,) the same for repeating the last context frame.
        check: the checker's report on the prediction (scene frames start+K..).
        files: paths written (name -> path) when ``out`` was given.
        start: the scene frame of the first context frame.
    """

    engine: RolloutResult
    neural: RolloutResult
    context: int
    mse: np.ndarray
    psnr: np.ndarray
    copy_last_psnr: np.ndarray
    check: CheckReport
    files: dict[str, str] = field(default_factory=dict)
    start: int = 0

    @property
    def first_predicted(self) -> int:
        """Scene frame of the first predicted frame (start + K)."""
        return self.start + self.context

    @property
    def findings(self):
        return self.check.findings

    def summary(self) -> str:
        spec = self.engine.spec
        fam = (spec.family if spec is not None else None) or "scene"
        lines = [
            f"compare {fam}: {len(self.psnr)} predicted frames after {self.context} context "
            f"frames (from frame {self.start}); PSNR step 1 {self.psnr[0]:.1f} dB, mean {self.psnr.mean():.1f} dB "
            f"(copy-last {self.copy_last_psnr.mean():.1f} dB); engine "
            f"{self.engine.cost.fps:.0f} frames/s, neural {self.neural.cost.fps:.0f} frames/s",
            self.check.summary(),
        ]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        spec = self.engine.spec
        return {
            "family": spec.family if spec is not None else None,
            "seed": spec.seed if spec is not None else None,
            "context": self.context,
            "start": self.start,
            "horizon": len(self.psnr),
            "per_step": [
                {
                    "frame": self.first_predicted + i,
                    "mse": round(float(m), 6),
                    "psnr_db": round(float(p), 2),
                    "copy_last_psnr_db": round(float(c), 2),
                }
                for i, (m, p, c) in enumerate(
                    zip(self.mse, self.psnr, self.copy_last_psnr, strict=True)
                )
            ],
            "mean_psnr_db": round(float(self.psnr.mean()), 2),
            "copy_last_mean_psnr_db": round(float(self.copy_last_psnr.mean()), 2),
            "engine": self.engine.to_json(),
            "neural": self.neural.to_json(),
            "findings": [f.to_dict() for f in self.check.findings],
            "files": dict(self.files),
            "spec": spec.to_dict() if spec is not None else None,
        }

    def write(self, out: str | Path, *, scale: int = 4) -> dict[str, str]:
        """Write compare.json, side_by_side.mp4/.webm and error.png into ``out``."""
        from twinsim.bridge.compare_video import error_plot, side_by_side, write_video
        from twinsim.sim.fileio import prepare_output_dir, write_json

        folder = prepare_output_dir(out)
        k = self.first_predicted
        video = side_by_side(
            self.engine.frames[k : k + len(self.psnr)],
            self.neural.frames,
            self.check.findings,
            start_frame=k,
            scale=scale,
        )
        fps = self.engine.fps
        files = {
            "video_mp4": str(write_video(video, folder / "side_by_side.mp4", fps)),
            "video_webm": str(write_video(video, folder / "side_by_side.webm", fps)),
            "error_plot": str(
                error_plot(
                    {"neural": self.psnr, "copy-last": self.copy_last_psnr},
                    folder / "error.png",
                    title="PSNR per predicted step (dB, higher is better)",
                    ylabel="PSNR vs engine (dB)",
                )
            ),
        }
        files["json"] = str(folder / "compare.json")
        self.files = files
        write_json(folder / "compare.json", self.to_json(), indent=2)
        return files


def compare(
    scene: SceneSpec | str | Path | dict,
    horizon: int = 16,
    context: int | None = None,
    *,
    start: int = 0,
    model: WorldModel | str | None = None,
    out: str | Path | None = None,
    renderer: str = "tiny",
    config: CheckerConfig | None = None,
) -> CompareReport:
    """Run both backends on ``scene`` and check the neural prediction against the engine.

    Args:
        scene: a SceneSpec, its dict or a ``.json`` path.
        horizon: frames the model predicts after the context.
        context: K, the engine frames the model starts from (default: the model's context).
        start: the scene frame of the first of them (default 0; pick one where things move:
            from a still context every predictor returns the still frame).
        model: a WorldModel or a bundled model name (default "cpu").
        out: a folder for compare.json, side_by_side.mp4/.webm and error.png (None: nothing is
            written).
        renderer: engine renderer.
        config: checker thresholds.

    Raises:
        ValueError: a raw video instead of a scene, a horizon or context < 1, a start outside the
            scene, or a camera whose size differs from the model's resolution.
    """
    from twinsim.bridge.rollout_api import _resolve_model

    spec = load_scene_or_frames(scene)
    if isinstance(spec, np.ndarray):
        raise ValueError("compare needs a scene (the engine renders it), not raw frames")
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    wm = _resolve_model(model)
    k = wm.context if context is None else context
    if k < 1:
        raise ValueError(f"context must be >= 1, got {k}")
    n = spec.world.num_frames
    if not 0 <= start <= n - k - horizon:
        raise ValueError(
            f"start {start} leaves no room for {k} context + {horizon} predicted frames in the "
            f"scene's {n}: choose 0..{max(0, n - k - horizon)} or a shorter horizon"
        )
    cam = spec.cameras[0]
    if (cam.width, cam.height) != (wm.resolution, wm.resolution):
        raise ValueError(
            f"the scene's camera is {cam.width}x{cam.height}; the model predicts "
            f"{wm.resolution}x{wm.resolution} frames: set the camera to that size"
        )
    eng = rollout(spec, start + k + horizon, backend="engine", renderer=renderer)
    eng.reason = "compare: the reference"
    first = start + k  # scene frame of the first predicted frame
    t0 = time.perf_counter()
    pred = wm.predict(eng.frames[start:first], horizon)
    neural = RolloutResult(
        frames=pred,
        backend="neural",
        reason="compare: the prediction under test",
        cost=Cost(time.perf_counter() - t0, horizon),
        labels=None,
        context=eng.frames[start:first],
        start_frame=first,
        spec=eng.spec,
        fps=eng.fps,
        extra={"model": wm.config.name},
    )
    truth = eng.frames[first:]
    mse = _mse(pred, truth)
    copy = _mse(np.repeat(eng.frames[first - 1 : first], horizon, 0), truth)
    check = check_physics(pred, eng.labels, start_frame=first, config=config)
    report = CompareReport(eng, neural, k, mse, psnr(mse), psnr(copy), check, start=start)
    if out is not None:
        report.write(out)
    return report
