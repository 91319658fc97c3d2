"""The workspace folder every tool reads from and writes into; no path may leave it."""

from __future__ import annotations

import itertools
import os
from pathlib import Path, PurePosixPath

__all__ = ["Workspace", "WorkspaceError"]


class WorkspaceError(ValueError):
    """A path that would leave the workspace (``..``, absolute, symlink) or does not exist."""


class Workspace:
    """A folder the tools own. Paths given to tools are relative to it.

    :meth:`resolve` refuses absolute paths, ``..`` components, ``~``, NUL bytes and any path
    through a symbolic link, then checks that the resolved path is still inside the folder.
    """

    def __init__(self, root: str | Path) -> None:
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise NotADirectoryError(f"workspace {str(root)!r} exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def resolve(self, rel: str, *, must_exist: bool = False) -> Path:
        """The absolute path of ``rel`` inside the workspace.

        Raises:
            WorkspaceError: an absolute path, ``..``, ``~``, a symlink on the way, or (with
                ``must_exist``) a missing file; the message names the path and the rule.
        """
        if not isinstance(rel, str) or not rel.strip():
            raise WorkspaceError("path must be a non-empty string relative to the workspace")
        if "\x00" in rel or "\\" in rel:
            raise WorkspaceError(f"path {rel!r}: NUL bytes and backslashes are not allowed")
        pure = PurePosixPath(rel)
        if pure.is_absolute() or rel.startswith("~"):
            raise WorkspaceError(
                f"path {rel!r} is absolute; give a path relative to the workspace "
                "(see the list_outputs tool)"
            )
        if ".." in pure.parts:
            raise WorkspaceError(f"path {rel!r} contains '..'; paths may not leave the workspace")
        path = self.root
        for part in pure.parts:
            if part == ".":
                continue
            path = path / part
            if path.is_symlink():
                raise WorkspaceError(f"path {rel!r} goes through a symbolic link; not allowed")
        real = path.resolve()
        if real != self.root and self.root not in real.parents:
            raise WorkspaceError(f"path {rel!r} resolves outside the workspace")
        if must_exist and not real.exists():
            raise WorkspaceError(f"no such file in the workspace: {rel!r}")
        return real

    def relative(self, path: str | Path) -> str:
        """``path`` (inside the workspace) as the relative string the tools accept."""
        return Path(path).resolve().relative_to(self.root).as_posix()

    def new_folder(self, kind: str) -> Path:
        """A fresh folder ``KIND-NNNN`` (the first free number)."""
        base = self.root / kind
        base.mkdir(exist_ok=True)
        start = sum(1 for _ in base.iterdir()) + 1  # usually free: no retry walk over old ones
        for i in itertools.count(start):
            path = base / f"{kind}-{i:04d}"
            try:
                path.mkdir()
            except FileExistsError:
                continue
            return path
        raise AssertionError("unreachable")

    def files(self, limit: int = 500) -> list[Path]:
        """Regular files in the workspace (no hidden temporaries, no symlinks), sorted."""
        out: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                p = Path(dirpath) / name
                if name.startswith(".") or p.is_symlink():
                    continue
                out.append(p)
                if len(out) >= limit:
                    return out
        return out
