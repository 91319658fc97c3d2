"""Out-of-range scenes for bench_hybrid.py (camera moved and pastel colours; bodies larger than
their family's) and the hybrid's scores on them. Imported with this folder on ``sys.path``."""

from __future__ import annotations

import dataclasses

import numpy as np
from _hybrid_windows import CONTEXT_END, HORIZON, OBSERVED, SEED, StateErrors

__all__ = ["OVERSIZE", "out_of_range", "out_of_range_scenes", "oversized", "oversized_scenes"]


def out_of_range_scenes(seed: int = SEED):
    """(family, spec) of the out-of-range scenes: drop, collide and projectile (held-out seeds
    ``seed`` + 100-102) with the camera moved +0.5/-0.6/+0.5 m and widened to 65 degrees, and
    pastel colours outside the palette."""
    from twinsim.sim import sample_scene

    rng = np.random.default_rng(7)
    for i, fam in enumerate(("drop", "collide", "projectile")):
        spec = sample_scene(fam, seed + 100 + i)
        cam = spec.cameras[0]
        cam = dataclasses.replace(
            cam, eye=(cam.eye[0] + 0.5, cam.eye[1] - 0.6, cam.eye[2] + 0.5), fov=65.0
        )
        objs = tuple(
            dataclasses.replace(o, color=(*map(float, rng.uniform(0.55, 0.95, 3)), 1.0))
            for o in spec.objects
        )
        yield fam, dataclasses.replace(spec, cameras=(cam,), objects=objs)


OVERSIZE = 1.6  # bodies this many times their family's size (perception trained on 0.8-1.25)


def oversized_scenes(seed: int = SEED, scale: float = OVERSIZE):
    """(family, spec) of scenes whose movable bodies are ``scale`` times their family's size,
    those resting on the floor lifted with it (`perception.scale_bodies`): drop, collide and
    projectile (held-out seeds ``seed`` + 103-105), camera and colours in range."""
    from twinsim.neural.perception import scale_bodies
    from twinsim.sim import sample_scene

    for i, fam in enumerate(("drop", "collide", "projectile")):
        spec = sample_scene(fam, seed + 103 + i)
        yield fam, dataclasses.replace(spec, objects=scale_bodies(spec.objects, scale))


def oversized(args) -> dict:
    """Bodies larger than any the estimator was built for (its size clamp, `scale.SIZE_RANGE`,
    and the perception network's training sizes): hybrid with the camera given, copy-last,
    and the hybrid's uncertainty ({} when skipped)."""
    if not args.out_of_range:
        return {}
    from twinsim.neural import metrics as M
    from twinsim.neural import predict_hybrid
    from twinsim.sim import simulate

    rows: dict[str, list] = {"hybrid": [], "copy_last": []}
    unc, errs = [], StateErrors()
    for fam, spec in oversized_scenes(args.seed):
        ro = simulate(spec, labels=("rgb", "objects"))
        k = CONTEXT_END[fam]
        ctx, truth = ro.rgb[: k + 1], ro.rgb[k + 1 : k + 1 + HORIZON]
        pr = predict_hybrid(ctx, HORIZON, camera=spec.cameras[0])
        rows["hybrid"].append(M.psnr(pr.frames, truth))
        rows["copy_last"].append(M.psnr(M.copy_last(ctx[-OBSERVED:], HORIZON), truth))
        unc.append(pr.uncertainty.score)
        errs.add(pr, spec, ro, k)
    return (
        {n: float(np.mean(v)) for n, v in rows.items()}
        | {"uncertainty": float(np.mean(unc)), "scale": OVERSIZE}
        | errs.summary()
    )


def out_of_range(args) -> dict:
    """Camera moved and widened, pastel colours outside the palette: hybrid with the camera
    given, read from the frames, or the default camera assumed, and copy-last ({} when
    skipped)."""
    if not args.out_of_range:
        return {}
    from twinsim.neural import metrics as M
    from twinsim.neural import predict_hybrid
    from twinsim.neural.estimate import default_camera
    from twinsim.sim import simulate

    cams = ("hybrid_camera_given", "hybrid_estimated_camera", "hybrid_default_camera")
    rows: dict[str, list] = {name: [] for name in (*cams, "copy_last")}
    unc: dict[str, list] = {name: [] for name in cams}
    errs = StateErrors()  # of the hybrid with the camera given
    for fam, spec in out_of_range_scenes(args.seed):
        cam = spec.cameras[0]
        ro = simulate(spec, labels=("rgb", "objects"))
        k = CONTEXT_END[fam]
        ctx, truth = ro.rgb[: k + 1], ro.rgb[k + 1 : k + 1 + HORIZON]
        for name, camera in zip(cams, (cam, None, default_camera()), strict=True):
            pr = predict_hybrid(ctx, HORIZON, camera=camera)
            rows[name].append(M.psnr(pr.frames, truth))
            unc[name].append(pr.uncertainty.score)
            if camera is cam:
                errs.add(pr, spec, ro, k)
        rows["copy_last"].append(M.psnr(M.copy_last(ctx[-OBSERVED:], HORIZON), truth))
    out = {n: float(np.mean(v)) for n, v in rows.items()}
    out |= {f"uncertainty_{n}": float(np.mean(v)) for n, v in unc.items()}
    return out | {f"camera_given_{n}": v for n, v in errs.summary().items()}
