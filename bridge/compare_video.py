"""Pictures for compare(): the side-by-side video (engine | neural | difference) with the
checker's findings marked, and a per-step error plot (PNG), drawn with Pillow."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from twinsim.bridge.checker import Finding
from twinsim.sim.fileio import atomic_path

__all__ = ["error_plot", "side_by_side", "write_video"]

_RED = (230, 30, 30)
_PANEL_TITLES = ("engine", "neural", "|difference| x3")


def side_by_side(
    engine: np.ndarray,
    neural: np.ndarray,
    findings: Sequence[Finding],
    *,
    start_frame: int,
    scale: int = 4,
) -> np.ndarray:
    """(T, H*s + 14, 3*W*s, 3) uint8 frames: engine | neural | amplified difference.

    Findings are drawn on the neural panel from ``onset`` to ``end`` (a red box where the
    evidence is, its kind and object written under the panels); frames with a finding get a
    red border.
    """
    if engine.shape != neural.shape:
        raise ValueError(f"engine {engine.shape} and neural {neural.shape} frames differ in shape")
    t_len, h, w = engine.shape[:3]
    diff = np.clip(np.abs(engine.astype(np.int16) - neural.astype(np.int16)) * 3, 0, 255)
    out = []
    for t in range(t_len):
        panels = [engine[t], neural[t], diff[t].astype(np.uint8)]
        row = np.concatenate([np.kron(p, np.ones((scale, scale, 1), np.uint8)) for p in panels], 1)
        img = Image.new("RGB", (row.shape[1], row.shape[0] + 14), (20, 20, 20))
        img.paste(Image.fromarray(row), (0, 0))
        draw = ImageDraw.Draw(img)
        frame = start_frame + t
        active = [f for f in findings if f.onset <= frame <= f.end]
        for i, title in enumerate(_PANEL_TITLES):
            x = i * w * scale + 2
            draw.rectangle((x - 1, 0, x + 6 * len(title) + 2, 11), fill=(20, 20, 20))
            draw.text((x, 0), title, fill=(255, 255, 255))
        for f in active:
            x0, y0, x1, y1 = f.bbox
            if x0 >= 0:
                ox = w * scale  # the neural panel
                draw.rectangle(
                    (ox + x0 * scale - 2, y0 * scale - 2, ox + x1 * scale + 1, y1 * scale + 1),
                    outline=_RED,
                    width=2,
                )
        caption = f"frame {frame}"
        if active:
            caption += ": " + "; ".join(f"{f.kind} {f.object}" for f in active)
            draw.rectangle((0, 0, img.width - 1, h * scale - 1), outline=_RED, width=2)
        draw.text((2, h * scale + 1), caption, fill=_RED if active else (200, 200, 200))
        out.append(np.asarray(img))
    return np.stack(out)


def write_video(frames: np.ndarray, path: str | Path, fps: float) -> Path:
    """Write frames as ``.mp4`` (H.264) or ``.webm`` (VP9) by the suffix; atomic rename."""
    import imageio.v2 as imageio

    path = Path(path)
    h, w = frames.shape[1:3]
    frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    codec = {".mp4": "libx264", ".webm": "libvpx-vp9"}.get(path.suffix.lower())
    if codec is None:
        raise ValueError(f"video path must end in .mp4 or .webm, got {str(path)!r}")
    params = ["-crf", "18"] if codec == "libx264" else ["-crf", "30", "-b:v", "0"]
    with (
        atomic_path(path) as tmp,
        imageio.get_writer(
            tmp,
            fps=fps,
            codec=codec,
            macro_block_size=1,
            pixelformat="yuv420p",
            output_params=params,
            format="FFMPEG",
        ) as writer,
    ):
        for frame in frames:
            writer.append_data(frame)
    return path


def error_plot(
    series: dict[str, Sequence[float]],
    path: str | Path,
    *,
    title: str,
    ylabel: str,
    first_step: int = 1,
    size: tuple[int, int] = (420, 220),
) -> Path:
    """A line chart of one or more per-step series (PNG, atomic rename)."""
    colors = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]
    w, h = size
    left, right, top, bottom = 44, 10, 22, 28
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    vals = [np.asarray(v, float) for v in series.values()]
    finite = np.concatenate([v[np.isfinite(v)] for v in vals]) if vals else np.zeros(1)
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    n = max(len(v) for v in vals) if vals else 1
    draw.text((left, 4), title, fill="black")
    draw.rectangle((left, top, w - right, h - bottom), outline=(120, 120, 120))

    def xy(i: int, y: float) -> tuple[float, float]:
        x = left + (w - left - right) * (i / max(1, n - 1))
        return x, top + (h - top - bottom) * (1 - (y - lo) / (hi - lo))

    for k, (name, v) in enumerate(zip(series, vals, strict=True)):
        c = colors[k % len(colors)]
        pts = [xy(i, y) for i, y in enumerate(v) if np.isfinite(y)]
        if len(pts) > 1:
            draw.line(pts, fill=c, width=2)
        for p in pts:
            draw.ellipse((p[0] - 2, p[1] - 2, p[0] + 2, p[1] + 2), fill=c)
        draw.text((w - right - 110, top + 4 + 12 * k), name, fill=c)
    draw.text((2, top), f"{hi:.3g}", fill="black")
    draw.text((2, h - bottom - 10), f"{lo:.3g}", fill="black")
    draw.text((left, h - bottom + 4), f"step {first_step}", fill="black")
    draw.text((w - right - 50, h - bottom + 4), f"step {first_step + n - 1}", fill="black")
    draw.text((left + 80, h - 12), ylabel, fill="black")
    path = Path(path)
    with atomic_path(path) as tmp:
        img.save(tmp, format="PNG")
    return path
