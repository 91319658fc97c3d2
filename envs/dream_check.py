"""Check a dream against the engine: the same action sequences in both, step by step."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from twinsim.envs.policies import RandomPolicy, scripted_policy
from twinsim.envs.registry import make, task_of

__all__ = ["DreamCheckReport", "dream_check"]

POLICIES = ("random", "scripted")


@dataclass
class DreamCheckReport:
    """Per-step errors of a dream, open loop from the engine's first observation.

    obs_error[t]: mean over episodes of the observation error after step t+1 (state dream: RMS
    over state entries, in the state's units; pixel dream: RMS over pixels in [0, 1]).
    hold_error[t]: the same error for a "nothing moves" baseline (the first observation held).
    reward_error[t]: mean |dream reward - engine reward|. steps_within: per episode, how many
    leading steps stayed within ``tolerance``. episode_steps: the engine episodes' lengths.
    """

    env_id: str
    dream_id: str
    tolerance: float
    obs_error: list[float] = field(default_factory=list)
    hold_error: list[float] = field(default_factory=list)
    reward_error: list[float] = field(default_factory=list)
    steps_within: list[int] = field(default_factory=list)
    episode_steps: list[int] = field(default_factory=list)
    success_agreement: float = 0.0

    def table(self) -> str:
        """A plain-text per-step table and a summary line."""
        lines = [f"{'step':>4} {'obs_err':>9} {'hold_err':>9} {'rew_err':>9}"]
        for t, (o, h, r) in enumerate(
            zip(self.obs_error, self.hold_error, self.reward_error, strict=True)
        ):
            lines.append(f"{t + 1:>4} {o:>9.4f} {h:>9.4f} {r:>9.4f}")
        lines.append(
            f"{self.dream_id} vs {self.env_id}: steps within tolerance {self.tolerance:g}: "
            f"{self.steps_within} (mean {np.mean(self.steps_within):.1f} of episode lengths "
            f"{self.episode_steps}); end/success agreement {self.success_agreement:.2f}"
        )
        return "\n".join(lines)


def _pair(env_id: str) -> tuple[str, str, str]:
    task, kind = task_of(env_id)
    if kind == "engine":
        kind = "dream"
    return task, f"twinsim/{task}-v0", f"twinsim/{task}-{kind}-v0"


def _error(a: np.ndarray, b: np.ndarray, pixels: bool) -> float:
    x, y = a.astype(np.float64), b.astype(np.float64)
    if pixels:
        x, y = x / 255.0, y / 255.0
    return float(np.sqrt(np.mean((x - y) ** 2)))


def dream_check(
    env_id: str,
    *,
    episodes: int = 5,
    steps: int = 50,
    tolerance: float | None = None,
    policy: str = "random",
    seed: int = 0,
    checkpoint: str | None = None,
) -> DreamCheckReport:
    """Run ``episodes`` action sequences in the engine env and its dream (``env_id`` names
    either) and report the per-step errors (see :class:`DreamCheckReport`).

    ``tolerance`` defaults to 0.05 (state units, mostly metres) for a state dream and 0.05
    (RMS in [0, 1]) for a pixel dream.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; valid policies: {', '.join(POLICIES)}")
    if not (1 <= episodes <= 10_000 and 1 <= steps <= 100_000):
        raise ValueError("episodes and steps must be >= 1")
    task, engine_id, dream_id = _pair(env_id)
    pixels = dream_id.endswith("-dream-rgb-v0")
    kw = {} if checkpoint is None else {"checkpoint": checkpoint}
    dream = make(dream_id, **kw)
    size = dream.observation_space.shape[0] if pixels else 64
    engine = make(
        engine_id, obs_mode="rgb+state" if pixels else "state", image_size=size
    )  # pixels: act from the state (scripted) and compare the frames
    tol = 0.05 if tolerance is None else float(tolerance)
    report = DreamCheckReport(engine_id, dream_id, tol)
    errs = np.full((episodes, steps), np.nan)
    holds = np.full((episodes, steps), np.nan)
    rews = np.full((episodes, steps), np.nan)
    agree = []
    for ep in range(episodes):
        obs, _ = engine.reset(seed=seed + ep)
        frame = obs["rgb"] if pixels else obs
        state = obs["state"] if pixels else obs
        dream.reset(seed=seed + ep, options={"obs": frame})
        pol = (
            scripted_policy(task)
            if policy == "scripted"
            else RandomPolicy(engine.action_space, seed + ep)
        )
        pol.reset()
        first, within, counting, n = frame, 0, True, 0
        for t in range(steps):
            a = pol(state)
            obs, r, term, trunc, info = engine.step(a)
            d_obs, d_r, d_term, _, d_info = dream.step(a)
            frame = obs["rgb"] if pixels else obs
            state = obs["state"] if pixels else obs
            errs[ep, t] = _error(frame, d_obs, pixels)
            holds[ep, t] = _error(frame, first, pixels)
            rews[ep, t] = abs(r - d_r)
            n = t + 1
            if counting and errs[ep, t] <= tol:
                within += 1
            else:
                counting = False
            if term or trunc or d_term:
                agree.append(
                    bool(term) == bool(d_term) and info["is_success"] == d_info["is_success"]
                )
                break
        else:
            agree.append(True)
        report.steps_within.append(within)
        report.episode_steps.append(n)
    engine.close()
    dream.close()
    with np.errstate(all="ignore"):
        valid = ~np.all(np.isnan(errs), axis=0)
        report.obs_error = np.nanmean(errs[:, valid], axis=0).round(5).tolist()
        report.hold_error = np.nanmean(holds[:, valid], axis=0).round(5).tolist()
        report.reward_error = np.nanmean(rews[:, valid], axis=0).round(5).tolist()
    report.success_agreement = float(np.mean(agree))
    return report
