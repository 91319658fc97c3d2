"""``twinsim predict --backend hybrid``: a clip (video file, scene spec or family) -> the
hybrid's prediction as a side-by-side video (truth | hybrid | error x4), a contact sheet, the
estimated spec as JSON and its uncertainty, written atomically beside the video."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from twinsim.sim import CameraSpec

__all__ = ["load_clip", "write_hybrid_prediction"]


def load_clip(args: argparse.Namespace) -> tuple[np.ndarray, CameraSpec | None]:
    """The 64 px frames of ``args.video`` or ``args.scene`` from ``--start`` on (context, then
    what truth there is), and the scene's camera (None for a video: read from the frames)."""
    from twinsim.neural.hybrid import WORKING_RESOLUTION as RESOLUTION

    need = args.start + args.context + args.horizon
    camera = None
    if args.video:
        from twinsim.neural.footage import decode_video

        if not Path(args.video).is_file():
            raise FileNotFoundError(f"video {args.video} does not exist")
        frames = decode_video(args.video, RESOLUTION, max_frames=need)
    else:
        import dataclasses

        from twinsim.commands.sim_cmds import load_scene
        from twinsim.sim import simulate

        spec = load_scene(args.scene, args.seed, args.impossible)  # a SPEC.json or a FAMILY
        camera = dataclasses.replace(spec.cameras[0], width=RESOLUTION, height=RESOLUTION)
        world = dataclasses.replace(spec.world, duration=(need - 1) / spec.world.fps)
        frames = simulate(dataclasses.replace(spec, cameras=(camera,), world=world)).rgb
    frames = frames[args.start :]
    if len(frames) < args.context:
        raise ValueError(
            f"only {len(frames)} frames after --start {args.start}; need {args.context}"
        )
    return frames, camera


def write_hybrid_prediction(args: argparse.Namespace) -> int:
    """Run the hybrid on ``args.video`` or ``args.scene`` and write ``args.out`` (+ .spec.json,
    .uncertainty.json). With a scene the spec's camera is given to the estimator; with a
    video it is read from the frames (docs/hybrid.md)."""
    from twinsim.commands.neural_cmds import _contact_sheet, _side_by_side, _write_png
    from twinsim.neural.hybrid import predict_hybrid
    from twinsim.sim.fileio import write_json, write_mp4, write_text

    frames, camera = load_clip(args)
    pred = predict_hybrid(
        frames[: args.context], args.horizon, camera=camera, samples=args.samples, seed=args.seed
    )
    truth = frames[: args.context + args.horizon]
    if len(truth) < args.context + args.horizon:
        pad = np.zeros((args.context + args.horizon - len(truth), *truth.shape[1:]), np.uint8)
        truth = np.concatenate([truth, pad])
    video = _side_by_side(truth, pred.frames, args.context)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_mp4(out, video, args.fps)
    sheet = out.with_suffix(".png")
    _write_png(sheet, _contact_sheet(truth, pred.frames, args.context))
    spec_path = write_text(out.with_suffix(".spec.json"), pred.spec.to_json() + "\n")
    u = pred.uncertainty
    unc = {"score": u.score, "unexplained": u.unexplained, "camera_given": u.camera_given}
    unc["camera_source"] = u.camera_source
    unc["objects"] = u.objects
    if pred.spread is not None:  # how much the unseen materials decide each frame
        unc["material_spread"] = [round(float(x), 3) for x in pred.spread]
    write_json(out.with_suffix(".uncertainty.json"), unc, indent=2)
    print(f"wrote {sheet} (contact sheet: row 1 truth, row 2 hybrid, every predicted frame)")
    print(
        f"wrote {out} ({len(video)} frames: truth | hybrid | error x4), {spec_path} "
        f"({len(pred.spec.objects)} objects), uncertainty {u.score:.2f}"
        + ("" if u.camera_given else f" (camera {u.camera_source}: {_camera_words(pred.spec)})")
    )
    return 0


def _camera_words(spec) -> str:
    from twinsim.neural.camera_estimate import camera_reading

    r = camera_reading(spec.cameras[0])
    return f"eye {r.height:.2f} m up, pitched {r.pitch:.0f} deg down, fov {r.fov:.0f} deg"
