"""twinsim.neural: the neural video world model (flow + memory U-Net), its training, metrics
and evaluation. See docs/neural.md.

Public API:
    WorldModel (load / predict / predict_batch), load_pretrained, train, evaluate, preset, RunConfig
"""

from twinsim.neural.checkpoint import CheckpointError, load_model, save_checkpoint
from twinsim.neural.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from twinsim.neural.evaluate import EvalConfig, evaluate, format_table
from twinsim.neural.footage import FootageSet, load_footage
from twinsim.neural.model import FlowMemoryNet
from twinsim.neural.predict import WorldModel, load_pretrained
from twinsim.neural.presets import PRESETS, preset
from twinsim.neural.train import TrainResult, train

# The hybrid predictor loads scipy and the engine: imported on first use (PEP 562).
_LAZY = {
    "HybridPrediction": "twinsim.neural.hybrid",
    "physics_surprise": "twinsim.neural.surprise",
    "predict_hybrid": "twinsim.neural.hybrid",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'twinsim.neural' has no attribute {name!r}")


__all__ = [
    "PRESETS",
    "CheckpointError",
    "DataConfig",
    "EvalConfig",
    "FlowMemoryNet",
    "FootageSet",
    "HybridPrediction",
    "ModelConfig",
    "RunConfig",
    "TrainConfig",
    "TrainResult",
    "WorldModel",
    "evaluate",
    "format_table",
    "load_footage",
    "load_model",
    "load_pretrained",
    "physics_surprise",
    "predict_hybrid",
    "preset",
    "save_checkpoint",
    "train",
]
