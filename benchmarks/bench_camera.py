"""Benchmark the camera estimator: how well it reads a held-out scene's camera, and what the
hybrid predictor gains from it when no camera is given.

Per family, on the hybrid benchmark's held-out moving windows (same seeds and context ends as
bench_hybrid.py): the error of the estimated eye height, pitch and field of view beside the
error of the assumed default camera, and the hybrid's mean PSNR over 12 predicted steps with
the camera given, estimated and assumed, beside copy-last-frame from the same run. Writes a
contact sheet (per family, its first moving window: truth | camera given | estimated |
assumed, every second predicted frame) to docs/camera_sheet.png.

    python benchmarks/bench_camera.py --scenes 4 --workers 2

Prints a table and appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
from _hybrid_windows import CONTEXT_END, FAMILIES, HORIZON, OBSERVED, SEED

_CAMERAS = ("given", "estimated", "assumed")  # camera sources of the hybrid
_READINGS = ("estimated", "assumed")  # readings compared with the true camera
_UNITS = {"height": "m", "pitch": "deg", "fov": "deg"}
_SHEET = Path(__file__).resolve().parents[1] / "docs" / "camera_sheet.png"


def _item(job: tuple[str, int]) -> dict | None:
    """One held-out window: camera reading errors and the hybrid's PSNR per camera source;
    None for a still window (copy-last is exact there: bench_hybrid.py skips it too)."""
    import torch

    torch.set_num_threads(1)
    from twinsim.neural import metrics as M
    from twinsim.neural import predict_hybrid
    from twinsim.neural.camera_estimate import camera_reading
    from twinsim.sim import sample_scene, simulate

    fam, i = job
    spec = sample_scene(fam, SEED + i)
    ro = simulate(spec, labels=("rgb",))
    k = CONTEXT_END[fam]
    ctx, truth = ro.rgb[: k + 1], ro.rgb[k + 1 : k + 1 + HORIZON]
    if not M.visible_motion(ctx[-1], truth):
        return None
    true = camera_reading(spec.cameras[0])
    out: dict = {"family": fam}
    cams = {"given": spec.cameras[0], "estimated": None, "assumed": None}
    rows = [truth]
    for src, cam in cams.items():
        pred = predict_hybrid(ctx, HORIZON, camera=cam, estimate_camera=src != "assumed")
        if pred.uncertainty.camera_source != src:  # e.g. no bundled camera estimator
            raise SystemExit(f"asked for the {src} camera, got {pred.uncertainty.camera_source}")
        out[f"psnr_{src}"] = float(np.mean(M.psnr(pred.frames, truth)))
        rows.append(pred.frames)
        if src in _READINGS:  # the camera the hybrid used, against the true one
            r = camera_reading(pred.spec.cameras[0])
            for f in _UNITS:
                out[f"{f}_err_{src}"] = abs(getattr(r, f) - getattr(true, f))
    out["sheet"] = np.concatenate([np.concatenate(list(r[::2]), 1) for r in rows], 0)
    out["psnr_copy_last"] = float(np.mean(M.psnr(M.copy_last(ctx[-OBSERVED:], HORIZON), truth)))
    return out


def _describe(it: dict) -> str:
    psnr = ", ".join(f"{s} {it['psnr_' + s]:.1f} dB" for s in (*_CAMERAS, "copy_last"))
    return f"{it['family']}: {psnr}"


def main(argv: list[str] | None = None) -> int:
    a, fams = _common.window_bench_args(argv, __doc__, FAMILIES, 4, _SHEET)
    jobs = [(f, i) for f in fams for i in range(a.scenes)]
    t0 = time.time()
    items = _common.map_windows(_item, jobs, a.workers, _describe)
    rows = []
    for fam, sel in _common.family_groups(items, fams):

        def med(key: str, sel=sel) -> float:
            return float(np.median([it[key] for it in sel]))

        def mean(key: str, sel=sel) -> float:
            return float(np.mean([it[key] for it in sel]))

        rows.append(
            [fam, len(sel)]
            + [med(f"{f}_err_{s}") for f in ("height", "pitch", "fov") for s in _READINGS]
            + [mean(f"psnr_{s}") for s in (*_CAMERAS, "copy_last")]
        )
    headers = ["family", "windows"]
    headers += [f"{f} err, {s} ({u})" for f, u in _UNITS.items() for s in _READINGS]
    headers += [f"hybrid dB, camera {s}" for s in _CAMERAS] + ["copy-last dB"]
    table = _common.markdown_table(headers, rows)
    _common.save_first_windows(items, a.sheet)
    note = "Camera estimator on held-out windows (median reading errors; mean PSNR over 12 steps)"
    _common.finish_bench("bench_camera.py", argv, note, table, t0, not a.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
