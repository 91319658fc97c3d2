"""Exceptions raised by twinsim.sim; every message names the problem and the valid choices."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["SimError", "SpecError", "UnknownNameError", "UserError", "require"]


class UserError(Exception):
    """A failure the user caused (bad input, file, folder or setting), not a bug.

    The CLI prints these as one line (``twinsim CMD: error: ...``, exit 2) naming the file or
    field and what was expected; any other exception keeps its traceback.
    """


class SimError(UserError):
    """Base class of twinsim.sim errors."""


class SpecError(SimError, ValueError):
    """A scene specification is malformed: names the field path, the bad value and what is allowed."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}: invalid value {value!r}; {allowed}")

    def __reduce__(self):  # rebuilt from its fields, so it crosses process boundaries
        return type(self), (self.field, self.value, self.allowed)


class UnknownNameError(SimError, KeyError, ValueError):
    """An unknown name (family, shape, renderer, body, label, ...) with the list of valid ones."""

    def __init__(
        self, kind: str, name: object, valid: Iterable[str], *, field: str | None = None
    ) -> None:
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        self.field = field  # where the name was given (``spec.objects[0].shape``), if known
        plural = f"{kind[:-1]}ies" if kind.endswith("y") else f"{kind}s"
        where = f"{field}: " if field else ""
        super().__init__(f"{where}unknown {kind} {name!r}; valid {plural}: {', '.join(self.valid)}")

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0])

    def __reduce__(self):  # rebuilt from its fields, so it crosses process boundaries
        return (
            type(self),
            (self.kind, self.name, self.valid),
            {"field": self.field, "args": self.args},
        )


def require(cond: bool, field: str, value: object, allowed: str) -> None:
    """Raise :class:`SpecError` ``(field, value, allowed)`` unless ``cond`` holds."""
    if not cond:
        raise SpecError(field, value, allowed)
