"""Small committed assets (meshes, textures, the pretrained checkpoint), shipped as package data."""

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent

__all__ = ["ASSETS_DIR"]
