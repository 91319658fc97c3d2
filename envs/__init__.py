"""Gymnasium environments backed by the engine, and neural "dream" twins (planned; see the issues)."""

__all__: list[str] = []
