"""Resource budgets: refuse a request before it allocates more memory or processes than the
machine has, with the estimate and the limit in the message."""

from __future__ import annotations

import math
import os

from twinsim.sim.errors import UserError

__all__ = ["MEMORY_ENV", "MemoryBudgetError", "available_memory", "check_memory", "max_workers"]

MEMORY_ENV = "TWINSIM_MEMORY_LIMIT_GB"  # overrides the available-memory limit (tests, clusters)
WORKERS_PER_CORE = 8
MIN_WORKER_CAP = 32


class MemoryBudgetError(UserError, MemoryError):
    """A request would need more memory than is available; names the estimate and the limit."""


def available_memory() -> int:
    """Bytes a request may use: ``$TWINSIM_MEMORY_LIMIT_GB`` or the OS's available memory."""
    env = os.environ.get(MEMORY_ENV)
    if env:
        try:
            gb = float(env)
        except ValueError:
            gb = math.nan
        if not math.isfinite(gb) or gb <= 0:
            raise UserError(f"${MEMORY_ENV}={env!r}: expected a positive number of GB")
        return int(gb * 2**30)
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: do not refuse


def check_memory(need: int, what: str, advice: str) -> None:
    """Raise MemoryBudgetError when ``need`` bytes exceed :func:`available_memory`."""
    limit = available_memory()
    if need > limit:
        raise MemoryBudgetError(
            f"{what} needs about {need / 2**30:.1f} GiB but {limit / 2**30:.1f} GiB is "
            f"available (${MEMORY_ENV} sets the limit); {advice}"
        )


def max_workers() -> int:
    """The most local worker processes accepted: 8 per core, at least 32 (more only thrash)."""
    return max(MIN_WORKER_CAP, WORKERS_PER_CORE * (os.cpu_count() or 1))
