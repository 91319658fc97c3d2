"""Every family tells its story in every seed: checked from the labels (contacts, poses) of
``simulate(..., labels=["objects", "contacts"])`` over many seeds, not one.

``benchmarks/check_stories.py`` runs the same check over 200 seeds per family.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from twinsim.sim import simulate
from twinsim.sim.families import family_names, sample_scene
from twinsim.sim.families._common import sky_free_pitch
from twinsim.sim.families.stories import story, tower_falls, twin_kinds, upright_error
from twinsim.sim.families.trace import trace_of_rollout

# Seeds per family, sized for the suite's time budget: the glass families cost ~10x a
# rigid-body scene, ramp and containment also check their pass_through twin. The benchmark
# (benchmarks/check_stories.py) runs 200 per family.
_SEEDS = {"glass": 3, "shatter": 4, "ramp": 8, "containment": 8, "dominoes": 8, "tower": 8}
_DEFAULT_SEEDS = 12
_FIRST = 1000  # away from the seeds other tests and the docs use


def _check(family: str, seed: int, kind: str | None = None) -> str:
    spec = sample_scene(family, seed, impossible=kind)
    r = simulate(spec, labels=["objects", "contacts"])
    res = story(trace_of_rollout(r))
    return "" if res.ok else f"{family} seed {seed} {kind or ''}: {res.reason}"


@pytest.mark.slow
@pytest.mark.parametrize("family", family_names())
def test_every_seed_tells_the_story(family):
    n = _SEEDS.get(family, _DEFAULT_SEEDS)
    fails = [
        msg
        for seed in range(_FIRST, _FIRST + n)
        for kind in (None, *twin_kinds(family))
        if (msg := _check(family, seed, kind))
    ]
    assert not fails, "\n".join(fails)


def test_story_checks_can_fail():
    # A collide scene whose moving body is stopped dead hits nothing; a tower whose blocks are
    # pushed far off balance is built to fall, and a drop box ending on an edge is caught.
    spec = sample_scene("collide", 3)
    still = dataclasses.replace(spec.objects[0], linear_velocity=(0.0, 0.0, 0.0))
    spec = dataclasses.replace(spec, objects=(still, *spec.objects[1:]))
    r = simulate(spec, labels=["objects", "contacts"])
    assert not story(trace_of_rollout(r)).ok

    tower = sample_scene("tower", 0)
    blocks = list(tower.objects)
    top = blocks[-1]
    blocks[-1] = dataclasses.replace(top, position=(top.position[0] + 0.5, *top.position[1:]))
    assert tower_falls(dataclasses.replace(tower, objects=tuple(blocks))) is True

    edge = (0.0, np.sin(np.pi / 8), 0.0, np.cos(np.pi / 8))  # 45 deg about y
    assert upright_error("box", np.array(edge)) == pytest.approx(45.0, abs=0.1)
    assert upright_error("box", np.array((0.0, 0.0, 0.0, 1.0))) == 0.0
    assert (
        upright_error("cylinder", np.array((np.sin(np.pi / 4), 0.0, 0.0, np.cos(np.pi / 4)))) < 1e-6
    )


@pytest.mark.parametrize("family", [f for f in family_names() if f not in ("occlusion", "screen")])
def test_framing_keeps_the_sky_out_and_the_action_in_view(family):
    spec = sample_scene(family, 2)
    cam = spec.cameras[0]
    eye, target = np.asarray(cam.eye), np.asarray(cam.target)
    d = target - eye
    pitch = np.arctan2(-d[2], np.linalg.norm(d[:2]))
    assert pitch >= sky_free_pitch(cam.fov) - 1e-3  # < 5% sky above an infinite floor
    r = simulate(spec, labels=["depth", "segmentation"])
    sky = (r.depth >= cam.far * 0.999).mean()
    assert sky < 0.10, f"{family}: {sky:.1%} of the pixels are sky"
    moving = [i + 1 for i, o in enumerate(spec.objects) if o.mass > 0 or o.kinematic]
    seen = np.isin(r.segmentation, moving).any(axis=(1, 2))
    assert seen.mean() > 0.9, f"{family}: the moving bodies are out of view in some frames"
