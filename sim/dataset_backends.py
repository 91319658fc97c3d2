"""Executors that run scene tasks and yield their results *in task order*.

``serial`` (one worker: no IPC at all), ``local`` (a process pool) and ``ray`` (Ray tasks on a
local or remote cluster) run the very same :func:`run_scene`; results are consumed in order
with a bounded window of tasks in flight, so memory stays flat and output is deterministic.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from twinsim.sim.dataset_config import DatasetConfig, DatasetError
from twinsim.sim.dataset_scene import SceneTask, UnitResult, run_scene

__all__ = ["run_tasks"]


def run_tasks(tasks: Sequence[SceneTask], config: DatasetConfig) -> Iterator[UnitResult]:
    """Run ``tasks`` on ``config.backend`` with ``config.num_workers``; yield results in order."""
    if not tasks:
        return iter(())
    if config.backend == "ray":
        return _ray(tasks, config)
    if config.num_workers == 1 or len(tasks) == 1:
        return (run_scene(t, config) for t in tasks)
    return _pool(tasks, config)


def _windowed(
    tasks: Sequence[SceneTask], window: int, submit: Callable[[SceneTask], Any], get: Callable
) -> Iterator[UnitResult]:
    pending: deque[Any] = deque()
    it = iter(tasks)
    for t in it:
        pending.append(submit(t))
        if len(pending) >= window:
            break
    while pending:
        result = get(pending.popleft())
        nxt = next(it, None)
        if nxt is not None:
            pending.append(submit(nxt))
        yield result


def _pool(tasks: Sequence[SceneTask], config: DatasetConfig) -> Iterator[UnitResult]:
    # fork is cheap and safe here: the parent holds no PyBullet client or GL context.
    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    workers = min(config.num_workers, len(tasks))
    with ctx.Pool(workers) as pool:
        yield from _windowed(
            tasks,
            4 * workers,
            lambda t: pool.apply_async(run_scene, (t, config)),
            lambda r: r.get(),
        )


def _ray(tasks: Sequence[SceneTask], config: DatasetConfig) -> Iterator[UnitResult]:
    try:
        import ray
    except ImportError:
        raise DatasetError(
            "--backend ray needs Ray: pip install 'twinsim[ray]' (or use --backend local)"
        ) from None
    started = False
    if not ray.is_initialized():
        ray.init(address=config.ray_address, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        remote = ray.remote(num_cpus=1, max_retries=2)(run_scene)
        cfg = ray.put(config)
        window = 4 * max(1, int(ray.cluster_resources().get("CPU", config.num_workers)))
        yield from _windowed(tasks, window, lambda t: remote.remote(t, cfg), ray.get)
    finally:
        if started:
            ray.shutdown()
