"""The physics: a :class:`World` is one PyBullet DIRECT client built from a ``SceneSpec``.

Modules: ``world`` (the World facade), ``violations`` (how it breaks physics for an impossible
twin), ``constraints`` (joints, collision filters and visuals that follow its state), ``state`` (its
read-outs, snapshot tokens and the ``BodyView`` a renderer draws), ``bodies`` (spec objects ->
PyBullet bodies, kinematic paths, events), ``contacts`` (per-frame contact events),
``meshes`` (mesh assets and V-HACD collision parts). Names below import on first use.
"""

from __future__ import annotations

from twinsim.sim._lazy import lazy_exports

_EXPORTS = {
    "World": "twinsim.sim.world.world",
    **dict.fromkeys(["BodyState", "BodyView", "Token", "WorldState"], "twinsim.sim.world.state"),
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
