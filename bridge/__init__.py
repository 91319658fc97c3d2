"""One API for Python code and language planners to query either backend (planned; see the issues)."""

__all__: list[str] = []
