"""twinsim.neural: the neural video world model (flow + memory U-Net), its training, metrics
and evaluation. See docs/neural.md.

Public API:
    WorldModel (load / predict / predict_batch), load_pretrained, train, evaluate, preset, RunConfig
"""

from twinsim.neural.checkpoint import CheckpointError, load_model, save_checkpoint
from twinsim.neural.config import PRESETS, DataConfig, ModelConfig, RunConfig, TrainConfig, preset
from twinsim.neural.evaluate import EvalConfig, evaluate, format_table
from twinsim.neural.footage import FootageSet, load_footage
from twinsim.neural.model import FlowMemoryNet
from twinsim.neural.predict import WorldModel, load_pretrained
from twinsim.neural.train import TrainResult, train

__all__ = [
    "PRESETS",
    "CheckpointError",
    "DataConfig",
    "EvalConfig",
    "FlowMemoryNet",
    "FootageSet",
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
    "preset",
    "save_checkpoint",
    "train",
]
