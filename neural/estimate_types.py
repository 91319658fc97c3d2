"""What :func:`twinsim.neural.estimate.estimate_scene` takes and returns: its knobs
(:class:`EstimateConfig`) and the de-animated scene (:class:`SceneEstimate` of
:class:`ObjectEstimate`, each with its uncertainty)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from twinsim.neural.track import Track
from twinsim.sim.spec import ObjectSpec, SceneSpec

__all__ = ["STILL_SPEED", "EstimateConfig", "ObjectEstimate", "SceneEstimate"]

# m/s: a body fitted slower than this is read at rest (no velocity, no spin)
STILL_SPEED = 0.04


@dataclass(frozen=True)
class EstimateConfig:
    """Knobs of :func:`~twinsim.neural.estimate.estimate_scene`.

    Attributes:
        window: visible frames per object fitted (the last ones); velocity comes from them.
        flight_window: frames fitted for a body in free flight throughout the window (its arc
            under gravity fixes its scale, so a longer arc is a better ruler).
        max_evals: renders per frame fit (Nelder–Mead budget); the first fit gets twice this.
        second_opinion_error: a shape class the network is confident of (0.8 or more) whose
            fit is worse than this mean pixel error (0..255) gets the network's runner-up
            fitted too, which wins only at under half its error summed over the last two clear
            frames; ``inf`` trusts the network.
        trajectory_evals: Nelder–Mead evaluations of the joint fit of the last state and
            velocity to every frame of the window (each renders ``window`` frames).
        mass, friction, restitution: material of movable bodies (not observable in a few frames).
        floor_restitution: the floor's; what a body's bounce on it is assumed to be is the
            product ``restitution * floor_restitution`` (Bullet's), unless a bounce is seen
            (then measured: :mod:`~twinsim.neural.bounce`).
        use_network: classify shapes with the bundled perception network when it is available
            (else every class is fitted and the lowest pixel error wins).
        estimate_camera: when no camera is given, read its height, pitch and field of view
            from the frames with the bundled camera estimator (:mod:`~twinsim.neural.
            camera_estimate`); False, or no estimator installed: assume the families' camera
            (:data:`~twinsim.neural.estimate.DEFAULT_CAMERA`).
    """

    window: int = 5
    flight_window: int = 10
    max_evals: int = 120
    second_opinion_error: float = 4.0
    trajectory_evals: int = 200
    mass: float = 1.0
    friction: float = 0.5
    restitution: float = 0.35
    floor_restitution: float = 0.3
    use_network: bool = True
    estimate_camera: bool = True

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")
        if self.flight_window < self.window:
            raise ValueError(
                f"flight_window must be >= window ({self.window}), got {self.flight_window}"
            )
        if not self.second_opinion_error > 0:
            raise ValueError(
                f"second_opinion_error must be > 0 (inf: never), got {self.second_opinion_error}"
            )
        if self.max_evals < 10:
            raise ValueError(f"max_evals must be >= 10, got {self.max_evals}")
        for name in ("restitution", "floor_restitution"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")


@dataclass
class ObjectEstimate:
    """One tracked object at the last observed frame.

    Attributes:
        spec: the estimated body (pose and velocity at the last frame; mass 0 for scenery, a
            keyframe path for moving scenery).
        role: "dynamic", "static", "kinematic" (moving scenery) or "extrapolated" (moving off
            the floor but not falling freely, on a support the estimate does not explain:
            carried along its fitted constant acceleration as a kinematic body for 2 s).
        shape_probs: class probabilities (sphere, box, cylinder) from the network, or from the
            pixel errors of the fitted classes.
        fit_error: mean absolute pixel error (0..255) of the best frame fit over its pixels.
        position_sigma: (m) residual scatter of the track about its motion model.
        velocity_sigma: (m/s) standard error of the fitted velocity.
        frames_hidden: frames since last seen whole (0 = fully visible in the last frame;
            a partly covered object counts from its last clear sighting, a misfit tail off
            every support from its last trusted frame: ``scale.trusted_tail``).
        truncated: the body is coming into view and was lengthened behind the image edge
            (its true length is unseen; counts 0.5 towards the uncertainty).
        role_guessed: of scenery's dull colour, but body-sized (under 0.2 m of half-extent,
            which the families' scenery never is) and moving, so taken for a body: outside the
            colour convention roles rest on, e.g. a pastel body (counts 0.5 towards the
            uncertainty).
        track: the pixel track (per-frame blobs).
        positions: {frame: (3,) estimated world position} for the fitted frames.
        restitution: against the floor (body x floor), measured from a landing seen in the
            clip (:mod:`twinsim.neural.bounce`); None where it is assumed.
    """

    spec: ObjectSpec
    role: str
    shape_probs: dict[str, float]
    fit_error: float
    position_sigma: float
    velocity_sigma: float
    frames_hidden: int
    track: Track = field(repr=False)
    truncated: bool = False
    role_guessed: bool = False
    positions: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    restitution: float | None = None

    @property
    def uncertainty(self) -> float:
        """One number in [0, 1]: 0 for a tight, visible, well-fitted estimate."""
        pix = min(1.0, self.fit_error / 40.0)
        pos = min(1.0, self.position_sigma / 0.03)
        vel = min(1.0, self.velocity_sigma / 0.3)
        hid = min(1.0, self.frames_hidden / 24.0)
        cls = 1.0 - max(self.shape_probs.values()) if self.shape_probs else 1.0
        cut = 0.5 if self.truncated or self.role_guessed or self.role == "extrapolated" else 0.0
        return float(max(pix, 0.5 * pos + 0.5 * vel, 0.5 * hid, cls, cut))


@dataclass
class SceneEstimate:
    """The de-animated scene at the last observed frame.

    Attributes:
        spec: a simulable SceneSpec whose t = 0 is the last observed frame.
        objects: per-object estimates (spec order).
        camera_source: "given", "estimated" (read from the frames) or "assumed" (the default);
            the camera itself is ``spec.cameras[0]``.
        camera_given: True when the camera was an input.
        unexplained: share of the last frame's object pixels no estimated object accounts for.
        uncertainty: max of the objects' uncertainties and ``unexplained`` (0 = confident).
    """

    spec: SceneSpec
    objects: list[ObjectEstimate]
    camera_source: str
    unexplained: float
    floor_color: tuple[float, float, float, float]

    @property
    def camera_given(self) -> bool:
        return self.camera_source == "given"

    @property
    def uncertainty(self) -> float:
        per = [o.uncertainty for o in self.objects]
        return float(max([self.unexplained, *per]) if per else 1.0)
