"""Benchmark the hybrid predictor on clips that went through a video file, as a user's do.

Per family, on the hybrid benchmark's held-out moving windows (same seeds and context ends as
bench_hybrid.py), each clip is written as H.264 mp4 with ``twinsim.sim.fileio.write_mp4`` (what
``twinsim sim`` writes as preview.mp4: enlarged to 256 px) and decoded back to 64 px with
``decode_video`` (what ``twinsim predict --video`` reads). Reported beside the lossless frames:
the colour tracks found in the context (the truth is the lossless count), the hybrid's mean PSNR
over 12 predicted steps with the camera given, copy-last-frame from the same run, and the tracks
found when the same clip is written at its own 64 px (``min_side=64``: 4:2:0 colour at 32 px).
Writes a contact sheet (per family, its first moving window: truth | hybrid on lossless frames |
hybrid on the mp4, every second predicted frame) to docs/video_input_sheet.png.

    python benchmarks/bench_video_input.py --scenes 2 --workers 2

Prints a table and appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
from _hybrid_windows import CONTEXT_END, FAMILIES, HORIZON, OBSERVED, SEED

_SHEET = Path(__file__).resolve().parents[1] / "docs" / "video_input_sheet.png"


def _item(job: tuple[str, int]) -> dict | None:
    """One held-out window through mp4 and back; None for a still window."""
    import torch

    torch.set_num_threads(1)
    from twinsim.neural import metrics as M
    from twinsim.neural import predict_hybrid
    from twinsim.neural.footage import decode_video
    from twinsim.neural.track import track_objects
    from twinsim.sim import sample_scene, simulate
    from twinsim.sim.fileio import write_mp4

    fam, i = job
    spec = sample_scene(fam, SEED + i)
    ro = simulate(spec, labels=("rgb",))
    k = CONTEXT_END[fam]
    truth = ro.rgb[k + 1 : k + 1 + HORIZON]
    if not M.visible_motion(ro.rgb[k], truth):
        return None
    clips = {"lossless": ro.rgb}
    with tempfile.TemporaryDirectory() as tmp:
        for name, side in (("mp4", 256), ("mp4_64px", 64)):
            path = write_mp4(Path(tmp) / f"{name}.mp4", ro.rgb, spec.world.fps, min_side=side)
            clips[name] = decode_video(path, 64, max_frames=k + 1 + HORIZON)
    out: dict = {"family": fam}
    rows = [truth]
    for name, frames in clips.items():
        out[f"tracks_{name}"] = len(track_objects(frames[: k + 1])[0])
        if name == "mp4_64px":  # dozens of fragment tracks: minutes per clip, see the docs
            continue
        t0 = time.time()
        pred = predict_hybrid(frames[: k + 1], HORIZON, camera=spec.cameras[0])
        out[f"s_{name}"] = time.time() - t0
        out[f"psnr_{name}"] = float(np.mean(M.psnr(pred.frames, truth)))
        rows.append(pred.frames)
    ctx = ro.rgb[: k + 1]
    out["psnr_copy_last"] = float(np.mean(M.psnr(M.copy_last(ctx[-OBSERVED:], HORIZON), truth)))
    out["sheet"] = np.concatenate([np.concatenate(list(r[::2]), 1) for r in rows], 0)
    return out


def _describe(it: dict) -> str:
    return (
        f"{it['family']}: tracks {it['tracks_lossless']} / {it['tracks_mp4']} / "
        f"{it['tracks_mp4_64px']}, hybrid {it['psnr_lossless']:.1f} / {it['psnr_mp4']:.1f} dB"
    )


def main(argv: list[str] | None = None) -> int:
    a, fams = _common.window_bench_args(argv, __doc__, FAMILIES, 2, _SHEET)
    jobs = [(f, i) for f in fams for i in range(a.scenes)]
    t0 = time.time()
    items = _common.map_windows(_item, jobs, a.workers, _describe)
    rows = []
    keys = ["tracks_lossless", "tracks_mp4", "tracks_mp4_64px", "psnr_lossless", "psnr_mp4"]
    keys += ["psnr_copy_last", "s_lossless", "s_mp4"]
    for fam, sel in _common.family_groups(items, fams):
        rows.append([fam, len(sel), *(float(np.mean([it[k] for it in sel])) for k in keys)])
    headers = ["family", "windows", "tracks, lossless", "tracks, mp4 256 px"]
    headers += ["tracks, mp4 64 px", "hybrid dB, lossless", "hybrid dB, mp4", "copy-last dB"]
    headers += ["s/clip, lossless", "s/clip, mp4"]
    table = _common.markdown_table(headers, rows)
    _common.save_first_windows(items, a.sheet)
    note = (
        "Hybrid on clips written as mp4 and decoded (mean tracks in the context; mean PSNR "
        "over 12 steps, camera given)"
    )
    _common.finish_bench("bench_video_input.py", argv, note, table, t0, not a.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
