"""EngineEnv: the gymnasium.Env every engine-backed twinsim task derives from.

A task describes its scene as a :class:`~twinsim.sim.SceneSpec` and acts through the engine's
:class:`~twinsim.sim.World` (no second physics layer). This base class owns the world, the
renderer, the observation modes and action validation; a task supplies five hooks:

* ``_sample_scene(rng)``: the episode's SceneSpec (drawn from ``self.np_random``).
* ``_act(action)``: drive the world (forces / velocities on the agent body) for one step.
* ``_state()``: the documented state vector (``STATE_LABELS`` names each entry).
* ``_outcome()``: ``(reward, success, failure)`` after the step.
* ``ACTION_SPACE``: the task's (fixed) action space.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import pybullet as p
from gymnasium import spaces
from twinsim.sim import (
    CameraSpec,
    Keyframe,
    LightSpec,
    ObjectSpec,
    SceneSpec,
    World,
    get_renderer,
)
from twinsim.sim.render import camera_pose_at
from twinsim.sim.world.bodies import path_state

__all__ = ["OBS_MODES", "EngineEnv", "InvalidActionError"]

OBS_MODES: tuple[str, ...] = ("state", "rgb", "rgbd", "rgb+state")


class InvalidActionError(ValueError):
    """An action outside the env's action space (names the action, the space and why)."""


def check_action(space: spaces.Space, action: Any) -> np.ndarray | int:
    """Validate ``action`` against ``space``; returns it as a float32 array or an int.

    Raises:
        InvalidActionError: wrong type, shape, non-finite values or out of bounds.
    """
    if isinstance(space, spaces.Discrete):
        arr = np.asarray(action)
        if arr.shape not in ((), (1,)) or not np.issubdtype(arr.dtype, np.integer):
            raise InvalidActionError(
                f"invalid action {action!r}: this env takes one integer in "
                f"[{space.start}, {space.start + space.n - 1}] ({space})"
            )
        a = int(arr.reshape(()))
        if not space.start <= a < space.start + space.n:
            raise InvalidActionError(
                f"invalid action {a}: must lie in [{space.start}, {space.start + space.n - 1}] "
                f"({space})"
            )
        return a
    assert isinstance(space, spaces.Box)
    try:
        arr = np.asarray(action, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidActionError(
            f"invalid action {action!r}: expected a float array of shape {space.shape}"
        ) from None
    if arr.shape != space.shape:
        raise InvalidActionError(
            f"invalid action shape {arr.shape}: expected {space.shape} ({space})"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidActionError(f"invalid action {arr.tolist()}: values must be finite")
    tol = 1e-5
    if np.any(arr < space.low - tol) or np.any(arr > space.high + tol):
        raise InvalidActionError(
            f"invalid action {arr.tolist()}: out of bounds; each value must lie in "
            f"[{space.low.min():g}, {space.high.max():g}] (clip or rescale the policy's output)"
        )
    return np.clip(arr, space.low, space.high)


class EngineEnv(gym.Env):
    """Base class of the engine-backed tasks (see module docstring).

    Args:
        obs_mode: ``"state"`` (float32 vector, see ``STATE_LABELS``), ``"rgb"`` (H x W x 3
            uint8), ``"rgbd"`` (H x W x 4 uint8; channel 3 is depth, ``255 * d / depth_max``
            clipped, ``d`` in metres along the optical axis) or ``"rgb+state"`` (Dict with
            ``"rgb"`` and ``"state"``).
        render_mode: None or ``"rgb_array"`` (``render()`` returns the camera's H x W x 3 view).
        image_size: side of square image observations and renders (pixels, 16..512).
        difficulty: in [0, 1]; what it scales is documented per task.
        randomize: False places every body at its nominal pose (only the seed's agent-free
            dynamics vary, if any); True (default) draws the layout from the seed.
        renderer: engine renderer name (``"tiny"``, CPU, default; or ``"pyrender"``).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 24}
    ACTION_SPACE: ClassVar[spaces.Space]
    STATE_LABELS: ClassVar[tuple[str, ...]]
    # Fixed overhead camera looking at the workspace (the square |x|, |y| <= 0.6 m).
    CAMERA_EYE: ClassVar[tuple[float, float, float]] = (0.0, -0.8, 1.0)
    CAMERA_TARGET: ClassVar[tuple[float, float, float]] = (0.0, 0.0, 0.0)
    FPS: ClassVar[float] = 24.0
    DEPTH_MAX: ClassVar[float] = 4.0
    WORKSPACE: ClassVar[float] = 0.6

    def __init__(
        self,
        obs_mode: str = "state",
        render_mode: str | None = None,
        image_size: int = 64,
        difficulty: float = 0.5,
        randomize: bool = True,
        renderer: str = "tiny",
    ) -> None:
        if obs_mode not in OBS_MODES:
            raise ValueError(f"unknown obs_mode {obs_mode!r}; valid obs modes: {OBS_MODES}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(
                f"unknown render_mode {render_mode!r}; valid render modes: None, 'rgb_array'"
            )
        if not (isinstance(image_size, int) and 16 <= image_size <= 512):
            raise ValueError(f"image_size: invalid value {image_size!r}; an int in [16, 512]")
        if not (isinstance(difficulty, int | float) and 0.0 <= difficulty <= 1.0):
            raise ValueError(f"difficulty: invalid value {difficulty!r}; a number in [0, 1]")
        self.obs_mode = obs_mode
        self.render_mode = render_mode
        self.image_size = image_size
        self.difficulty = float(difficulty)
        self.randomize = bool(randomize)
        self._renderer_name = renderer
        self._renderer = None
        self.world: World | None = None
        self.action_space = copy.deepcopy(self.ACTION_SPACE)  # own RNG per env
        n = len(self.STATE_LABELS)
        state_space = spaces.Box(-np.inf, np.inf, (n,), np.float32)
        h = w = image_size
        rgb_space = spaces.Box(0, 255, (h, w, 3), np.uint8)
        self.observation_space = {
            "state": state_space,
            "rgb": rgb_space,
            "rgbd": spaces.Box(0, 255, (h, w, 4), np.uint8),
            "rgb+state": spaces.Dict({"rgb": rgb_space, "state": state_space}),
        }[obs_mode]
        self._steps = 0

    # -- task hooks ----------------------------------------------------------------------------

    def _sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        raise NotImplementedError

    def _act(self, action: Any) -> None:
        raise NotImplementedError

    def _state(self) -> np.ndarray:
        raise NotImplementedError

    def _outcome(self) -> tuple[float, bool, bool]:
        raise NotImplementedError

    def _on_reset(self) -> None:
        """Per-episode bookkeeping after the world is built (override as needed)."""

    # -- helpers for tasks ---------------------------------------------------------------------

    def camera(self) -> CameraSpec:
        """The task camera at ``image_size``."""
        s = self.image_size
        return CameraSpec(
            width=s, height=s, fov=45.0, eye=self.CAMERA_EYE, target=self.CAMERA_TARGET
        )

    def _drive(self, name: str, vxy: np.ndarray) -> None:
        """Velocity-control a floor body: set its horizontal velocity (m/s), keep it inside."""
        pos, _ = self.world.pose(name)
        (_, _, vz), _ = self.world.velocity(name)
        v = np.asarray(vxy, np.float64).copy()
        for i in range(2):  # a wall at the workspace edge: no outward motion past it
            if abs(pos[i]) >= self.WORKSPACE and math.copysign(1.0, pos[i]) * v[i] > 0:
                v[i] = 0.0
        # Agents slide; they do not tumble (angular velocity cleared each control step).
        p.resetBaseVelocity(
            self.world.body_id(name),
            (float(v[0]), float(v[1]), min(vz, 0.0)),
            (0.0, 0.0, 0.0),
            physicsClientId=self.world.client,
        )

    def xy(self, name: str) -> tuple[float, float]:
        pos, _ = self.world.pose(name)
        return pos[0], pos[1]

    def planar(self, name: str) -> tuple[float, float, float, float]:
        """(x, y, vx, vy) of a body: position and velocity on the floor plane."""
        (x, y, _), _ = self.world.pose(name)
        (vx, vy, _), _ = self.world.velocity(name)
        return x, y, vx, vy

    # -- gymnasium API -------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        spec = self._sample_scene(self.np_random)
        if self.world is not None:
            self.world.close()
        self.world = World(spec)
        self._steps = 0
        self._on_reset()
        return self._observe(), {"is_success": False}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self.world is None:
            raise RuntimeError("call reset() before step()")
        a = check_action(self.action_space, action)
        self._act(a)
        self.world.step_frame()
        self._steps += 1
        reward, success, failure = self._outcome()
        obs = self._observe()
        info = {"is_success": bool(success), "is_failure": bool(failure)}
        return obs, float(reward), bool(success or failure), False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self.world is None:
            raise RuntimeError("call reset() before render()")
        return self._frame(depth=False)[0]

    def close(self) -> None:
        if self.world is not None:
            self.world.close()
            self.world = None
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # -- observation ---------------------------------------------------------------------------

    def _frame(self, depth: bool) -> tuple[np.ndarray, np.ndarray | None]:
        if self._renderer is None:
            self._renderer = get_renderer(self._renderer_name)
        spec = self.world.spec
        pose = camera_pose_at(spec.cameras[0], self.world.time)
        f = self._renderer.render(
            self.world.client,
            self.world.body_views(),
            pose,
            spec.light,
            spec.world,
            rgb=True,
            depth=depth,
            segmentation=False,
        )
        return f.rgb, f.depth

    def _observe(self) -> Any:
        mode = self.obs_mode
        if mode == "state":
            return self._state().astype(np.float32)
        if mode == "rgb":
            return self._frame(depth=False)[0]
        if mode == "rgbd":
            rgb, d = self._frame(depth=True)
            dq = np.clip(d / self.DEPTH_MAX * 255.0, 0, 255).astype(np.uint8)
            return np.concatenate([rgb, dq[..., None]], axis=-1)
        return {"rgb": self._frame(depth=False)[0], "state": self._state().astype(np.float32)}

    # -- scene export --------------------------------------------------------------------------

    def export_spec(self, duration: float = 2.0) -> SceneSpec:
        """The current scene as a SceneSpec: every body at its current pose and velocity,
        scripted paths re-timed to start now; ``duration`` seconds long (for ``twinsim render``
        or the dataset tools). The agent's future actions are not part of it."""
        if self.world is None:
            raise RuntimeError("call reset() before export_spec()")
        w, now = self.world, self.world.time
        objects = []
        for o in w.spec.objects:
            if o.kinematic:
                pos, orn, _, _ = path_state(o.path, now)
                keys = [Keyframe(0.0, tuple(pos), tuple(orn))]
                keys += [dataclasses.replace(k, time=k.time - now) for k in o.path if k.time > now]
                objects.append(dataclasses.replace(o, path=tuple(keys)))
                continue
            pos, orn = w.pose(o.name)
            lin, ang = w.velocity(o.name)
            q = np.asarray(orn) / np.linalg.norm(orn)
            objects.append(
                dataclasses.replace(
                    o,
                    position=tuple(map(float, pos)),
                    orientation=tuple(map(float, q)),
                    linear_velocity=tuple(map(float, lin)),
                    angular_velocity=tuple(map(float, ang)),
                )
            )
        world = dataclasses.replace(w.spec.world, duration=float(duration))
        return dataclasses.replace(w.spec, objects=tuple(objects), world=world)

    # -- building blocks for scenes --------------------------------------------------------------

    def make_scene(self, objects: list[ObjectSpec], seed: int) -> SceneSpec:
        """A SceneSpec with the task camera, this env's fps and the given bodies."""
        from twinsim.sim import WorldSpec

        return SceneSpec(
            objects=tuple(objects),
            cameras=(self.camera(),),
            # No shadow pass: TinyRenderer's shadow map aliases into a moire on the floor at
            # small sizes, noise that image policies and pixel dreams would have to model.
            light=LightSpec(shadows=False),
            world=WorldSpec(fps=self.FPS, duration=10.0),
            family=f"env:{type(self).__name__}",
            seed=seed,
        )
