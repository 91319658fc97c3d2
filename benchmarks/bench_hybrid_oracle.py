"""What the hybrid's estimate of the last frame's state is worth: the hybrid played with the
truth's values put into its estimate.

Per held-out moving window (the seeds and context ends of bench_hybrid.py), the estimate of
the observed frames is played forward as estimated and again with the truth's values put into
its matched bodies (matched by colour, as bench_hybrid.py does): their velocities (linear and
angular), their materials (mass, friction, restitution, and the floor's), both, and both with
the true positions as well. Shapes, sizes and orientations stay the estimate's, and every
variant goes through the same settling and composite (``play_forward``). The table gives each
variant's mean PSNR over 12 predicted steps minus copy-last-frame's in the same run: the part of
the hybrid's gap that a better estimate of that quantity could close, and the part it could
not (what is left with everything but shape and orientation given).

    python benchmarks/bench_hybrid_oracle.py --families collide,drop,push --scenes 4

Prints a table and appends it to benchmarks/RESULTS.md; writes a contact sheet (per family,
its first moving window: truth | as estimated | velocities and materials given, every second
predicted frame) to docs/hybrid_oracle_sheet.png.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
from _hybrid_windows import CONTEXT_END, FAMILIES, HORIZON, OBSERVED, SEED, match_bodies

# variant -> (velocities, materials, positions) taken from the truth
VARIANTS = {
    "estimated": (False, False, False),
    "velocities": (True, False, False),
    "materials": (False, True, False),
    "both": (True, True, False),
    "both + positions": (True, True, True),
}
_SHEET = Path(__file__).resolve().parents[1] / "docs" / "hybrid_oracle_sheet.png"


def _given(est, spec, ro, k: int, velocities: bool, materials: bool, positions: bool):
    """``est`` with the truth's values (at frame ``k`` of ``ro``, a rollout of ``spec``) put
    into its matched bodies."""
    truth = {e.spec.name: (o, tr) for e, o, tr in match_bodies(est.objects, spec, ro, k) if e}
    objects = []
    for e in est.objects:
        o = e.spec
        if o.name in truth and o.mass > 0:
            t, tr = truth[o.name]
            change: dict = {}
            if velocities:
                change["linear_velocity"] = tuple(map(float, tr.linear_velocity[k]))
                change["angular_velocity"] = tuple(map(float, tr.angular_velocity[k]))
            if materials:
                change.update(mass=t.mass, friction=t.friction, restitution=t.restitution)
            if positions:
                change["position"] = tuple(map(float, tr.position[k]))
            o = dataclasses.replace(o, **change)
        objects.append(dataclasses.replace(e, spec=o))
    world = est.spec.world
    if materials:
        world = dataclasses.replace(
            world,
            floor_friction=spec.world.floor_friction,
            floor_restitution=spec.world.floor_restitution,
        )
    played = dataclasses.replace(est.spec, objects=tuple(o.spec for o in objects), world=world)
    return dataclasses.replace(est, spec=played, objects=objects)


def _item(job: tuple[str, int]) -> dict | None:
    """One held-out window: each variant's 12-step PSNR and copy-last's; None for a still
    window (copy-last is exact there: bench_hybrid.py skips it too)."""
    import torch

    torch.set_num_threads(1)
    from twinsim.neural import metrics as M
    from twinsim.neural.estimate import estimate_scene
    from twinsim.neural.hybrid import play_forward
    from twinsim.sim import sample_scene, simulate

    fam, i = job
    spec = sample_scene(fam, SEED + i)
    ro = simulate(spec, labels=("rgb", "objects"))
    k = CONTEXT_END[fam]
    ctx, truth = ro.rgb[: k + 1], ro.rgb[k + 1 : k + 1 + HORIZON]
    if not M.visible_motion(ctx[-1], truth):
        return None
    est = estimate_scene(ctx, spec.cameras[0])
    out: dict = {"family": fam, "seed": SEED + i}
    frames = {}
    for name, given in VARIANTS.items():
        pred = play_forward(_given(est, spec, ro, k, *given), ctx, HORIZON)
        out[name] = float(np.mean(M.psnr(pred.frames, truth)))
        frames[name] = pred.frames
    out["copy_last"] = float(np.mean(M.psnr(M.copy_last(ctx[-OBSERVED:], HORIZON), truth)))
    rows = (truth, frames["estimated"], frames["both"])
    out["sheet"] = np.concatenate([np.concatenate(list(r[::2]), 1) for r in rows], 0)
    return out


def _describe(it: dict) -> str:
    gains = ", ".join(f"{v} {it[v] - it['copy_last']:+.2f}" for v in VARIANTS)
    return f"{it['family']} {it['seed']}: {gains} dB"


def main(argv: list[str] | None = None) -> int:
    a, fams = _common.window_bench_args(argv, __doc__, FAMILIES, 4, _SHEET)
    jobs = [(f, i) for f in fams for i in range(a.scenes)]
    t0 = time.time()
    items = _common.map_windows(_item, jobs, a.workers, _describe)
    rows = [
        [fam, len(sel)]
        + [float(np.mean([it[v] - it["copy_last"] for it in sel])) for v in VARIANTS]
        + [float(np.mean([it["copy_last"] for it in sel]))]
        for fam, sel in _common.family_groups(items, fams)
    ]
    headers = ["family", "windows", *(f"{v} − copy-last (dB)" for v in VARIANTS)]
    table = _common.markdown_table([*headers, "copy-last (dB)"], rows)
    _common.save_first_windows(items, a.sheet)
    note = (
        "Hybrid with the truth's state put into its estimate (held-out windows; mean PSNR over"
        " 12 steps minus copy-last's)"
    )
    _common.finish_bench("bench_hybrid_oracle.py", argv, note, table, t0, not a.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
