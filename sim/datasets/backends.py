"""Executors that run one function over a list of jobs and yield the results *in job order*.

``serial`` (one worker: no IPC at all), ``local`` (a process pool) and ``ray`` (Ray tasks on a
local or remote cluster) run the very same module-level function (a scene task or a whole
shard); results are consumed in order with a bounded window of jobs in flight, so memory stays
flat and output is deterministic.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from twinsim.sim.datasets.config import DatasetConfig, DatasetError

__all__ = ["run_ordered"]

J = TypeVar("J")
R = TypeVar("R")
Job = Callable[[J, DatasetConfig], R]


def run_ordered(fn: Job, jobs: Sequence[J], config: DatasetConfig) -> Iterator[R]:
    """Yield ``fn(job, config)`` for each of ``jobs`` in order, run on ``config.backend``.

    ``fn`` must be a module-level function (it is pickled to pool workers and Ray tasks).
    """
    if not jobs:
        return iter(())
    if config.backend == "ray":
        return _ray(fn, jobs, config)
    if config.num_workers == 1 or len(jobs) == 1:
        return (fn(j, config) for j in jobs)
    return _pool(fn, jobs, config)


def _windowed(
    jobs: Sequence[J], window: int, submit: Callable[[J], Any], get: Callable
) -> Iterator:
    pending: deque[Any] = deque()
    it = iter(jobs)
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


def _pool(fn: Job, jobs: Sequence[J], config: DatasetConfig) -> Iterator:
    # fork is cheap and safe here: the parent holds no PyBullet client or GL context.
    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    workers = min(config.num_workers, len(jobs))
    with ctx.Pool(workers) as pool:
        yield from _windowed(
            jobs,
            4 * workers,
            lambda j: pool.apply_async(fn, (j, config)),
            lambda r: r.get(),
        )


def _ray(fn: Job, jobs: Sequence[J], config: DatasetConfig) -> Iterator:
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
        remote = ray.remote(num_cpus=1, max_retries=2)(fn)
        cfg = ray.put(config)
        window = 4 * max(1, int(ray.cluster_resources().get("CPU", config.num_workers)))
        yield from _windowed(jobs, window, lambda j: remote.remote(j, cfg), ray.get)
    finally:
        if started:
            ray.shutdown()
