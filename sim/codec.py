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


def _mismatch(tp: Any, value: Any) -> str | None:
    """What ``value`` should have been to be a ``tp`` (None when it is one)."""
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return None if isinstance(value, tp) else f"must be a {tp.__name__}"
    if origin in (types.UnionType, typing.Union):
        args = get_args(tp)
        if value is None:
            return None if type(None) in args else "must not be null"
        return _mismatch(next(a for a in args if a is not type(None)), value)
    if origin is Literal:
        return None if value in get_args(tp) else f"must be one of {list(get_args(tp))}"
    if origin is tuple:
        if not isinstance(value, tuple | list):
            return "must be a list"
        args = get_args(tp)
        items = [args[0]] * len(value) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(items) != len(value):
            return f"must be a list of {len(items)} numbers"
        return next((m for a, v in zip(items, value, strict=True) if (m := _mismatch(a, v))), None)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return "must be a number"
        return None if math.isfinite(value) else "must be a finite number (not NaN or infinity)"
    if tp is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        return None if ok else "must be an integer"
    if tp is bool:
        return None if isinstance(value, bool) else "must be true or false"
    if tp is str:
        return None if isinstance(value, str) else "must be a string"
    return None


def check_fields(obj: Any, path: str = "", recurse: bool = False) -> None:
    """Check every field of dataclass ``obj`` against its type hint: right type, and every
    float finite. Covers objects built in Python, which skip :func:`decode`.

    Raises:
        SpecError: naming the first bad field, its value and what is allowed.
    """
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        where = f"{path}.{f.name}" if path else f.name
        problem = _mismatch(_hints(type(obj))[f.name], value)
        if problem is not None:
            raise SpecError(where, value, problem)
        if recurse and dataclasses.is_dataclass(value):
            check_fields(value, where, recurse=True)
