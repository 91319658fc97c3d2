"""What every stage of ``twinsim eval`` shares: the predictors it scores and the run's deadline."""

from __future__ import annotations

import time

from twinsim.neural.voe import FLOORS

__all__ = ["PREDICTORS", "SUBSETS", "Budget"]

# the world model and the floors every score is reported beside (copy-last, linear)
PREDICTORS = ("model", *FLOORS)
# window subsets of the prediction tables (see metrics.visible_motion)
SUBSETS = ("moving", "faint", "still")


class Budget:
    """The deadline of a whole evaluation run (``minutes`` None: no deadline)."""

    def __init__(self, minutes: float | None) -> None:
        self.end = None if minutes is None else time.time() + minutes * 60

    def spent(self) -> bool:
        """True once the deadline has passed."""
        return self.end is not None and time.time() > self.end
