"""Seeded intuitive-physics scenario families and their violation-of-expectation twins.

``sample_scene(family, seed)`` draws a possible scene; ``sample_scene(family, seed, impossible=k)``
draws the same scene with the violation ``k`` set, so the two agree on every frame before the
violation frame (for ``appear``, ``spec.possible_twin()`` drops the appearing body).

Sampling runs the scene's physics once (no rendering) to keep only draws that tell the family's
story (``stories``) and to frame the camera on the action (``_settle``); the last 256 draws are
cached, so a scene and its twins share one draw.
``python -m twinsim.sim.families`` prints the family table as markdown (docs/families.md).
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Mapping

import numpy as np
from twinsim.sim.errors import SpecError, UnknownNameError
from twinsim.sim.families import (
    glass,
    motion,
    permanence,
    push,
    shatter,
    spill,
    stacking,
    support,
)
from twinsim.sim.families._common import Built, Family, Parameter
from twinsim.sim.spec import VIOLATIONS, SceneSpec

__all__ = [
    "Built",
    "Family",
    "Parameter",
    "family_info",
    "family_names",
    "markdown_table",
    "sample_scene",
]


def _build_registry() -> Mapping[str, Family]:
    fams: dict[str, Family] = {}
    for module in (motion, push, stacking, permanence, support, spill, shatter, glass):
        for fam in module.FAMILIES:
            if fam.name in fams:  # programming error: two modules claim one name
                raise RuntimeError(f"duplicate family {fam.name!r}")
            fams[fam.name] = fam
    return types.MappingProxyType(fams)


_REGISTRY: Mapping[str, Family] = _build_registry()


def family_names() -> list[str]:
    """Names of the registered scenario families, in registry order."""
    return list(_REGISTRY)


def family_info(name: str) -> Family:
    """The :class:`Family` called ``name``.

    Raises:
        UnknownNameError: listing the valid family names.
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownNameError("family", name, family_names()) from None


def sample_scene(family: str, seed: int, impossible: str | None = None) -> SceneSpec:
    """A scene of ``family`` drawn with ``numpy.random.default_rng(seed)``.

    Args:
        family: a name from :func:`families`.
        seed: integer >= 0; the same (family, seed) always gives the identical spec.
        impossible: None for the possible scene, or a violation kind the family supports
            (``family_info(family).violations``) for its impossible twin.

    Raises:
        UnknownNameError: unknown family or violation kind.
        SpecError: a negative or non-integer seed, or a violation kind the family does not offer.
    """
    fam = family_info(family)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SpecError("seed", seed, "must be an integer >= 0")
    seed = int(seed)
    if impossible is not None and impossible not in fam.violations:
        if impossible not in VIOLATIONS:
            raise UnknownNameError("violation", impossible, VIOLATIONS)
        offered = ", ".join(fam.violations) or "none"
        raise SpecError(
            "impossible", impossible, f"family {fam.name!r} offers violations: {offered}"
        )
    built = _built(fam.name, seed)
    spec = dataclasses.replace(built.spec, family=fam.name, seed=seed)
    if impossible is not None:
        spec = dataclasses.replace(spec, violation=built.violations[impossible])
    return spec


@functools.lru_cache(maxsize=256)
def _built(family: str, seed: int) -> Built:
    # Samplers run the scene's physics to check its story and frame its camera: a scene and its
    # twins, asked for one after another, share one draw. Built holds only frozen values.
    return _REGISTRY[family].build(np.random.default_rng(seed), seed)


def markdown_table() -> str:
    """The family table of docs/families.md, generated from the registry."""
    lines = [
        "| family | description | parameters (sampled ranges) | violations |",
        "|---|---|---|---|",
    ]
    for fam in _REGISTRY.values():
        params = "<br>".join(str(p) for p in fam.parameters)
        kinds = ", ".join(fam.violations) or "none"
        lines.append(f"| `{fam.name}` | {fam.description} | {params} | {kinds} |")
    return "\n".join(lines)
