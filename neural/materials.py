"""What a few frames cannot show: the materials (mass, friction, restitution) of the estimated
bodies, as a prior to sample from, so that :func:`~twinsim.neural.hybrid.predict_hybrid` can
average the futures they lead to (``samples=K``) instead of betting on one default.

Before two bodies meet, their mass ratio is not in the pixels, nor a ball's bounce before it
bounces, nor a box's friction before it slows: each decides where the bodies are a few frames
later. Under squared error the best single prediction is the mean over what is possible; the
samples themselves stay physically plausible futures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from twinsim.neural.push import same_push
from twinsim.sim.errors import require as _check
from twinsim.sim.spec import ObjectSpec, SceneSpec

__all__ = ["MaterialPrior", "sample_materials"]


@dataclass(frozen=True)
class MaterialPrior:
    """Ranges the unobserved materials of movable bodies are drawn from (the families' ranges,
    docs/families.md). Mass is log-uniform (kg), friction and restitution uniform.

    Attributes:
        mass: (low, high) kg, low > 0.
        friction: (low, high), within 0..2.
        restitution: (low, high), within 0..1; a body whose bounce was measured in the clip
            keeps its measured value.
    """

    mass: tuple[float, float] = (0.25, 2.0)
    friction: tuple[float, float] = (0.2, 0.9)
    restitution: tuple[float, float] = (0.05, 0.6)

    def __post_init__(self) -> None:
        for name, lo_min, hi_max in (
            ("mass", 1e-6, 1e3),
            ("friction", 0, 2),
            ("restitution", 0, 1),
        ):
            lo, hi = getattr(self, name)
            _check(
                lo_min <= lo <= hi <= hi_max,
                f"prior.{name}",
                (lo, hi),
                f"(low, high) with {lo_min} <= low <= high <= {hi_max}",
            )


def sample_materials(
    spec: SceneSpec, prior: MaterialPrior, rng: np.random.Generator, keep: frozenset[str]
) -> SceneSpec:
    """``spec`` with every movable body's mass, friction and restitution drawn from ``prior``
    (bodies named in ``keep`` keep their restitution: it was measured); scenery (mass 0) as is.
    A force event keeps the acceleration it gives its body (:func:`~twinsim.neural.push.
    same_push`)."""

    def draw(o: ObjectSpec) -> ObjectSpec:
        if o.mass == 0:
            return o
        mass = float(np.exp(rng.uniform(*np.log(prior.mass))))
        friction = float(rng.uniform(*prior.friction))
        bounce = float(rng.uniform(*prior.restitution))
        return dataclasses.replace(
            o,
            mass=mass,
            friction=friction,
            restitution=o.restitution if o.name in keep else bounce,
        )

    objects = tuple(draw(o) for o in spec.objects)
    drawn = {o.name: o for o in objects}
    friction = spec.world.floor_friction
    events = tuple(same_push(e, spec.object(e.body), drawn[e.body], friction) for e in spec.events)
    return dataclasses.replace(spec, objects=objects, events=events)
