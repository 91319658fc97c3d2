"""A typed JSON codec for frozen dataclasses: exact round trips and errors that name the field.

Used by :class:`twinsim.sim.spec.SceneSpec`; any dataclass whose fields are dataclasses, tuples,
``Literal`` choices, optionals, numbers, strings or booleans can be decoded with it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

from twinsim.sim.errors import SpecError, UnknownNameError

__all__ = ["check_fields", "decode", "to_plain"]


def to_plain(obj: Any) -> Any:
    """Dataclasses to dicts and tuples to lists, recursively (JSON-ready)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_plain(v) for v in obj]
    return obj


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(tp: Any, data: Any, path: str) -> Any:
    """Build a value of type ``tp`` (a dataclass, tuple, Literal, Optional, number, str, bool)
    from plain JSON ``data``, validating as it goes.

    Raises:
        SpecError: naming the field path (``path.field[i]``), the bad value and what is allowed.
        UnknownNameError: a Literal field holds a name outside its choices (they are listed).
    """
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise SpecError(path, data, f"must be an object with fields of {tp.__name__}")
        hints = _hints(tp)
        unknown = sorted(set(data) - set(hints))
        if unknown:
            raise SpecError(
                f"{path}.{unknown[0]}", data[unknown[0]], f"unknown field; valid: {sorted(hints)}"
            )
        kwargs = {k: decode(hints[k], v, f"{path}.{k}") for k, v in data.items()}
        try:
            return tp(**kwargs)
        except SpecError as exc:
            raise SpecError(f"{path}.{exc.field}", exc.value, exc.allowed) from None
        except UnknownNameError as exc:  # e.g. a violation naming a body the scene lacks
            where = path if exc.field is None else f"{path}.{exc.field}"
            raise UnknownNameError(exc.kind, exc.name, exc.valid, field=where) from None
        except TypeError as exc:  # a required field is missing
            raise SpecError(path, sorted(data), f"missing a required field ({exc})") from None
    if origin in (types.UnionType, typing.Union):
        args = get_args(tp)
        if data is None:
            if type(None) in args:
                return None
            raise SpecError(path, data, "must not be null")
        inner = [a for a in args if a is not type(None)]
        return decode(inner[0], data, path)
    if origin is Literal:
        choices = get_args(tp)
        if data not in choices:
            kind = path.rsplit(".", 1)[-1].split("[")[0]
            raise UnknownNameError(kind, data, [str(c) for c in choices], field=path)
        return data
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(data, list | tuple):
            raise SpecError(path, data, "must be a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        if len(data) != len(args):
            raise SpecError(path, data, f"must be a list of {len(args)} numbers")
        return tuple(
            decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True))
        )
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise SpecError(path, data, "must be a number")
        if not math.isfinite(data):  # JSON has no NaN/Infinity; Python's json accepts them
            raise SpecError(path, data, "must be a finite number (not NaN or infinity)")
        return float(data)
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise SpecError(path, data, "must be an integer")
        return data
    if tp is bool:
        if not isinstance(data, bool):
            raise SpecError(path, data, "must be true or false")
        return data
    if tp is str:
        if not isinstance(data, str):
            raise SpecError(path, data, "must be a string")
        return data
    raise TypeError(f"spec decoder does not handle {tp!r}")  # programming error, not user input


@functools.cache
def _checker(tp: Any) -> Callable[[Any], str | None]:
    """A function saying what a value should have been to be a ``tp`` (None when it is one),
    worked out from the type hint once: specs are built in the hybrid's fitting loops (tens of
    thousands per clip), where reading the hint again for every field of every spec took a
    sixth of the time."""
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        wrong = f"must be a {tp.__name__}"
        return lambda value: None if isinstance(value, tp) else wrong
    if origin in (types.UnionType, typing.Union):
        args = get_args(tp)
        nullable = type(None) in args
        inner = _checker(next(a for a in args if a is not type(None)))

        def optional(value: Any) -> str | None:
            if value is None:
                return None if nullable else "must not be null"
            return inner(value)

        return optional
    if origin is Literal:
        allowed = get_args(tp)
        wrong = f"must be one of {list(allowed)}"
        return lambda value: None if value in allowed else wrong
    if origin is tuple:
        return _tuple_checker(get_args(tp))
    if tp is float:
        return _float_mismatch
    if tp is int:
        return _int_mismatch
    if tp is bool:
        return lambda value: None if isinstance(value, bool) else "must be true or false"
    if tp is str:
        return lambda value: None if isinstance(value, str) else "must be a string"
    return lambda value: None


def _tuple_checker(args: tuple) -> Callable[[Any], str | None]:
    fixed = not (len(args) == 2 and args[1] is Ellipsis)  # tuple[float, float] or tuple[float, ...]
    checks = tuple(_checker(a) for a in (args if fixed else args[:1]))

    def check(value: Any) -> str | None:
        if not isinstance(value, tuple | list):
            return "must be a list"
        if fixed and len(value) != len(checks):
            return f"must be a list of {len(checks)} numbers"
        for c, v in zip(checks if fixed else checks * len(value), value, strict=True):
            if (problem := c(v)) is not None:
                return problem
        return None

    return check


def _float_mismatch(value: Any) -> str | None:
    # a float (numpy's float64 is one) needs no look through the numbers ABCs, which are slow
    if not isinstance(value, float) and (
        isinstance(value, bool) or not isinstance(value, numbers.Real)
    ):
        return "must be a number"
    return None if math.isfinite(value) else "must be a finite number (not NaN or infinity)"


def _int_mismatch(value: Any) -> str | None:
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    return None if ok else "must be an integer"


def check_fields(obj: Any, path: str = "", recurse: bool = False) -> None:
    """Check every field of dataclass ``obj`` against its type hint: right type, and every
    float finite. Covers objects built in Python, which skip :func:`decode`.

    Raises:
        SpecError: naming the first bad field, its value and what is allowed.
    """
    for name, check in _field_checks(type(obj)):
        value = getattr(obj, name)
        problem = check(value)
        nested = recurse and dataclasses.is_dataclass(value)
        if problem is None and not nested:
            continue
        where = f"{path}.{name}" if path else name
        if problem is not None:
            raise SpecError(where, value, problem)
        check_fields(value, where, recurse=True)


@functools.cache
def _field_checks(cls: type) -> tuple[tuple[str, Callable[[Any], str | None]], ...]:
    hints = _hints(cls)
    return tuple((f.name, _checker(hints[f.name])) for f in dataclasses.fields(cls))
