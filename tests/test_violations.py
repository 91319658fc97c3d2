"""Violation-of-expectation twins: equal to their possible twin before the violation frame,
different after it; permanence violations happen while the object is hidden; glass shatters."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from twinsim.sim import SceneSpec, simulate
from twinsim.sim.families import family_info, family_names, sample_scene
from twinsim.sim.families.shatter import glass_scene

PAIRS = [(f, k) for f in family_names() for k in family_info(f).violations]
SEEDS = (0, 1)
# The glass scenes cost ~10x a rigid-body one: one seed per glass twin (its 4 kinds).
CASES = [(f, k, s) for f, k in PAIRS for s in (SEEDS[:1] if f == "glass" else SEEDS)]
HIDING = ("occlusion", "screen")


def small(spec: SceneSpec, size: int = 32) -> SceneSpec:
    cams = tuple(dataclasses.replace(c, width=size, height=size) for c in spec.cameras)
    return dataclasses.replace(spec, cameras=cams)


def test_the_three_kinds_of_expectation_are_covered():
    kinds = {k for _, k in PAIRS}
    assert {"vanish", "appear", "teleport", "change_shape", "change_color"} <= kinds
    assert "pass_through" in kinds
    assert set(family_info("occlusion").violations) >= {"vanish", "appear"}


@pytest.mark.parametrize(("name", "kind", "seed"), CASES)
def test_twins_agree_before_the_violation_and_differ_after(name, kind, seed):
    impossible = small(sample_scene(name, seed, impossible=kind))
    possible = impossible.possible_twin()
    v = impossible.violation
    assert v is not None and v.kind == kind and 1 <= v.frame < impossible.world.num_frames
    labels = ["rgb", "segmentation"]
    a, b = simulate(possible, labels=labels), simulate(impossible, labels=labels)
    f = v.frame
    np.testing.assert_array_equal(a.rgb[:f], b.rgb[:f])
    np.testing.assert_array_equal(a.segmentation[:f], b.segmentation[:f])
    differs = [
        t
        for t in range(f, impossible.world.num_frames)
        if (a.rgb[t] != b.rgb[t]).any() or (a.segmentation[t] != b.segmentation[t]).any()
    ]
    assert differs, f"{name}/{kind}: the impossible twin never looks different"


@pytest.mark.parametrize(("name", "seed"), list(itertools.product(HIDING, (0, 1, 2))))
def test_permanence_violations_happen_while_the_object_is_hidden(name, seed):
    spec = small(sample_scene(name, seed))
    f = sample_scene(name, seed, impossible="vanish").violation.frame
    r = simulate(spec, labels=["segmentation", "visibility"])
    tr = r.track("target")
    assert tr.present[f] and tr.occluded[f], "the target must be hidden at the violation"
    assert tr.occluded[f - 1] and tr.occluded[f + 1]
    assert tr.visible_fraction[-1] > 0.5, "the target must be in plain view at the end"
    assert tr.visible_fraction[0] > 0.5
    if name == "screen":  # seen sliding before it is hidden: there is a motion to continue
        assert (tr.visible_fraction[:4] > 0.8).all()  # 0.9 at 32 px: pixels at its rim


def test_vanish_and_appear_are_mirror_images():
    vanish = sample_scene("occlusion", 3, impossible="vanish")
    appear = sample_scene("occlusion", 3, impossible="appear")
    assert vanish.violation.frame == appear.violation.frame
    f = vanish.violation.frame
    rv = simulate(small(vanish), labels=["objects"])
    ra = simulate(small(appear), labels=["objects"])
    assert rv.track("target").present[:f].all() and not rv.track("target").present[f:].any()
    assert not ra.track("target").present[:f].any() and ra.track("target").present[f:].all()
    # The appear twin's possible scene has no target at all; the vanish twin's keeps it.
    assert "target" not in appear.possible_twin().names
    assert "target" in vanish.possible_twin().names


def _fragment_spread(spec: SceneSpec, r=None) -> float:
    """Largest change (m) of a fragment-to-base distance between the first and last frame."""
    r = r if r is not None else simulate(spec, labels=["objects"])
    base = r.track("glass_base").position
    change = [
        abs(np.linalg.norm(t.position[-1] - base[-1]) - np.linalg.norm(t.position[0] - base[0]))
        for t in r.objects
        if t.name.startswith("shard")
    ]
    return float(max(change))


def test_glass_shatters_on_a_hard_fall():
    for seed in (0, 1):
        assert _fragment_spread(sample_scene("shatter", seed)) > 0.05


def test_glass_survives_a_gentle_set_down():
    # 2 cm onto its rim: the brittle joints (40 N/kg) hold; a 0.5 m fall asks 100+ N/kg.
    spec = glass_scene(np.random.default_rng(0), drop=0.02, tilt=0.1, spin=0.0)
    assert _fragment_spread(spec) < 0.005


def _glass_twin(kind: str) -> tuple:
    twin = small(sample_scene("glass", 0, impossible=kind), 16)
    r = simulate(twin, labels=["objects"])
    return twin, r


def test_glass_twins_break_physics_as_labelled():
    from twinsim.sim.families.glass import is_liquid, is_shard

    # no_shatter: every fragment keeps its place in the glass.
    twin, r = _glass_twin("no_shatter")
    spread = _fragment_spread(twin, r)
    assert spread < 0.01, f"the unbreakable glass came apart by {spread:.3f} m"
    # liquid_stays: the juice stays with the glass; in the possible scene it ends on the floor.
    twin, r = _glass_twin("liquid_stays")
    base = r.track("glass_base").position[-1]
    drops = [t for t in r.objects if is_liquid(t.name)]
    f = twin.violation.frame
    held = [
        np.linalg.norm(t.position[-1] - base)
        - np.linalg.norm(t.position[f] - r.track("glass_base").position[f])
        for t in drops
    ]
    assert max(abs(h) for h in held) < 0.02
    # shards_vanish: the shards are absent from the violation frame on.
    twin, r = _glass_twin("shards_vanish")
    f = twin.violation.frame
    shards = [t for t in r.objects if is_shard(t.name)]
    assert all(t.present[:f].all() and not t.present[f:].any() for t in shards)
    # reassemble: at the violation frame the shards are back where they sat in the glass.
    twin, r = _glass_twin("reassemble")
    f = twin.violation.frame
    b0, bf = r.track("glass_base").position[0], r.track("glass_base").position[f]
    for t in r.objects:
        if t.name.startswith("shard"):
            d0 = np.linalg.norm(t.position[0] - b0)
            assert np.linalg.norm(t.position[f] - bf) == pytest.approx(d0, abs=0.01)
