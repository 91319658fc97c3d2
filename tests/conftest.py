"""Test-session setup shared by every test module."""

from __future__ import annotations

import os

# The suite runs one pytest-xdist worker per core (`-n auto`, README). torch's default of one
# thread per core in every worker would oversubscribe the cores (tests/test_planner_ask.py
# measured one default-threaded model call at 36 s against 0.5 s on 2 cores); set before
# torch loads. A test that wants more threads sets them itself.
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
