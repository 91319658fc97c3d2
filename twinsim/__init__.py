"""twinsim: a hybrid neural + physics-engine simulator.

Subpackages: :mod:`twinsim.sim` (PyBullet engine, labelled scenes, datasets),
:mod:`twinsim.neural` (video world model), :mod:`twinsim.envs` (gymnasium environments),
:mod:`twinsim.bridge` (one API for Python code and language planners).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
