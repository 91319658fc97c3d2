"""Scene specs under mutation (property-based): every numeric field of the spec is finite and in
its documented range, every field has its type, and any accepted spec simulates to finite labels.

The mutations are generated, not listed: hypothesis picks any leaf of a spec that uses every
field and replaces it with a non-finite, huge, tiny, negative or wrong-typed value.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twinsim.sim import SceneSpec, simulate
from twinsim.sim.errors import SpecError, UnknownNameError
from twinsim.sim.spec import (
    CameraKeyframe,
    CameraSpec,
    EventSpec,
    JointSpec,
    Keyframe,
    LightSpec,
    ObjectSpec,
    Violation,
    WorldSpec,
)

REJECT = (SpecError, UnknownNameError)


def _every_field_spec() -> dict:
    """A spec (as JSON) that sets every field of every spec dataclass at least once."""
    spec = SceneSpec(
        objects=(
            ObjectSpec(
                "ball",
                "sphere",
                (0.1,),
                mass=0.3,
                friction=0.4,
                restitution=0.5,
                color=(0.9, 0.1, 0.1, 1.0),
                texture="checker.png",
                position=(0.0, 0.0, 0.5),
                orientation=(0.0, 0.0, 0.0, 1.0),
                linear_velocity=(0.5, 0.0, 0.0),
                angular_velocity=(0.0, 0.0, 1.0),
            ),
            ObjectSpec("crate", "box", (0.1, 0.1, 0.1), position=(0.4, 0.0, 0.1)),
            ObjectSpec(
                "screen",
                "box",
                (0.02, 0.3, 0.2),
                mass=0.0,
                path=(Keyframe(0.0, (-0.5, 0.5, 0.2)), Keyframe(0.2, (0.5, 0.5, 0.2))),
            ),
        ),
        cameras=(
            CameraSpec(
                width=12,
                height=10,
                fov=55.0,
                eye=(0.0, -2.0, 1.0),
                target=(0.0, 0.0, 0.2),
                up=(0.0, 0.0, 1.0),
                near=0.05,
                far=10.0,
                path=(CameraKeyframe(0.0, (0.0, -2.0, 1.0), (0.0, 0.0, 0.2)),),
            ),
        ),
        light=LightSpec((0.3, -0.4, 1.0), (1.0, 0.9, 0.8), 0.4, 0.5, 0.1, True),
        world=WorldSpec(
            gravity=(0.0, 0.0, -9.81),
            timestep=1 / 240,
            substeps=1,
            fps=24.0,
            duration=0.125,
            floor_color=(0.8, 0.8, 0.8, 1.0),
            floor_friction=0.6,
            floor_restitution=0.3,
        ),
        joints=(JointSpec("ball", "crate", break_impulse=2.0, break_force=50.0),),
        events=(EventSpec(0.05, "crate", "force", (1.0, 0.0, 0.0), (0.4, 0.0, 0.1), 0.05),),
        violation=Violation("teleport", "ball", 1, offset=(0.2, 0.0, 0.0)),
        family="custom",
        seed=3,
    )
    return json.loads(spec.to_json())


BASE = _every_field_spec()


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list) and node:
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    else:
        yield path, node


LEAVES = [p for p, v in _leaves(BASE)]
NUMERIC = [p for p, v in _leaves(BASE) if isinstance(v, int | float) and not isinstance(v, bool)]


def _set(data, path, value):
    data = json.loads(json.dumps(data))
    node = data
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return data


def _floats(spec_dict) -> list[float]:
    return [v for _, v in _leaves(spec_dict) if isinstance(v, float)]


def test_the_mutation_base_uses_every_numeric_field():
    def fields(cls):
        hints = typing.get_type_hints(cls)
        return {f.name for f in dataclasses.fields(cls) if "float" in str(hints[f.name])}

    seen = {str(p[-2] if isinstance(p[-1], int) else p[-1]) for p in NUMERIC}
    for cls in (ObjectSpec, Keyframe, CameraSpec, CameraKeyframe, LightSpec, WorldSpec,
                JointSpec, EventSpec, Violation):  # fmt: skip
        assert fields(cls) - {"new_size", "new_color"} <= seen, cls.__name__
    assert len(NUMERIC) > 60


NASTY = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e300, 1e30, 1e-300, 0.0, -1.0]),
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False),  # FTZ: see cli test
    st.integers(min_value=-(2**70), max_value=2**70),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(NUMERIC), value=NASTY)
def test_numeric_mutations_are_refused_or_stay_finite_and_in_range(path, value):
    data = _set(BASE, path, value)
    try:
        spec = SceneSpec.from_dict(data)
    except REJECT:
        return
    assert all(math.isfinite(v) for v in _floats(spec.to_dict()))
    for v in _floats(spec.to_dict()):
        assert abs(v) <= 1e6, (path, value)  # documented ranges all lie within +-1e6


WRONG_TYPES = st.one_of(
    st.text(max_size=5),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(LEAVES), value=WRONG_TYPES)
def test_wrong_types_anywhere_are_refused_with_a_spec_error(path, value):
    data = _set(BASE, path, value)
    try:
        SceneSpec.from_dict(data)
    except REJECT as exc:
        assert str(exc)
    # anything else (TypeError, AttributeError, ...) fails the test


SPEC_CLASSES = [ObjectSpec, Keyframe, CameraSpec, CameraKeyframe, LightSpec, WorldSpec, JointSpec,
                EventSpec, Violation]  # fmt: skip


def _example(cls):
    spec = SceneSpec.from_dict(BASE)
    return {
        ObjectSpec: spec.objects[0],
        Keyframe: spec.objects[2].path[0],
        CameraSpec: spec.cameras[0],
        CameraKeyframe: spec.cameras[0].path[0],
        LightSpec: spec.light,
        WorldSpec: spec.world,
        JointSpec: spec.joints[0],
        EventSpec: spec.events[0],
        Violation: spec.violation,
    }[cls]


@pytest.mark.parametrize("cls", SPEC_CLASSES, ids=lambda c: c.__name__)
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_python_construction_checks_types_and_finiteness_too(cls, data):
    """Specs built in Python (not from JSON) get the same checks: NaN/inf and wrong types fail."""
    obj = _example(cls)
    hints = typing.get_type_hints(cls)
    name = data.draw(st.sampled_from([f.name for f in dataclasses.fields(cls)]))
    old = getattr(obj, name)
    if "float" in str(hints[name]) and old is not None:
        bad = data.draw(st.sampled_from([math.nan, math.inf, -math.inf]))
        value = tuple(bad for _ in old or (0,)) if isinstance(old, tuple) else bad
    else:
        value = data.draw(st.sampled_from([object(), b"bytes", 1j]))
    with pytest.raises(REJECT):
        dataclasses.replace(obj, **{name: value})


# Values within and around the documented ranges, for the labels check.
FINITE = st.one_of(
    st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_subnormal=False),
    st.sampled_from([1e-4, 1e-3, 0.5, 1e3, 1e4, 1e5, -1e3, 0.0]),
)


def _finite_arrays(obj, where="rollout"):
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f":
            assert np.isfinite(obj).all(), where
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, SceneSpec):
        for f in dataclasses.fields(obj):
            _finite_arrays(getattr(obj, f.name), f"{where}.{f.name}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            _finite_arrays(v, f"{where}[{i}]")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(NUMERIC), value=FINITE)
def test_every_accepted_spec_simulates_to_finite_labels(path, value):
    if path[-1] == "texture" or path[:2] == ("world", "duration"):
        value = min(abs(value), 0.125) or 0.125  # keep the clip short
    try:
        spec = SceneSpec.from_dict(_set(BASE, path, value))
    except REJECT:
        return
    spec = dataclasses.replace(spec, objects=tuple(dataclasses.replace(o, texture=None)
                                                    for o in spec.objects))  # fmt: skip
    if spec.world.num_frames > 8:
        spec = dataclasses.replace(spec, world=dataclasses.replace(spec.world, duration=0.125))
    rollout = simulate(spec, "tiny", labels="all")
    _finite_arrays(rollout)


def test_spec_errors_cross_process_boundaries():
    """Raised in a worker (dataset generation, benchmarks), an error is pickled back to the
    parent: it must come back with its fields and message, not as a TypeError in the pool."""
    import pickle

    e = SpecError("objects[0].size", -1.0, "positive metres")
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is SpecError and str(back) == str(e)
    assert (back.field, back.value, back.allowed) == ("objects[0].size", -1.0, "positive metres")
    u = UnknownNameError("family", "drp", ["drop", "ramp"], field="family")
    back = pickle.loads(pickle.dumps(u))
    assert type(back) is UnknownNameError and str(back) == str(u)
    assert (back.name, back.valid, back.field) == ("drp", ["drop", "ramp"], "family")
