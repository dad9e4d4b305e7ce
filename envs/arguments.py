"""Checking the arguments of the Python API and the gymnasium env, so a bad one is one clear error, not a crash.

Every public function checks what it is given with these few helpers, so every refusal reads alike: it
names the parameter, shows the value and says what is allowed:

    view_radius must be a whole number from 0 to 20, got 2.5       (TypeError)
    view_radius must be from 0 to 20, got 1000                     (ValueError)
    level must be a level id, a file path or a Level, got None     (TypeError)

A wrong type is an `ArgumentTypeError`: a `TypeError`, and a `ValueError` too, because the episode
settings refused a wrong type with `ValueError` before and callers (replays, checkpoints) catch that.
Whole numbers are Python or numpy integers, never `bool`; numbers are those or floats, and finite.
A path is a `str` or an `os.PathLike` (`pathlib.Path`) naming text, so a `Path` goes wherever a string does.
It lives in `envs` because the env needs it and `envs` imports nothing of `evolve`.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, TypeVar

T = TypeVar("T")
_SHOWN = 40  # characters of a value a message shows


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type; a `ValueError` too, for callers that caught the settings' errors before."""


def shown(value: object) -> str:
    """`value` for a message: its repr, cut short (an integer of thousands of digits is not spelt out)."""
    if isinstance(value, int) and value.bit_length() > 100:  # str() of thousands of digits is slow or refused
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1:,} digits"
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def number_text(value: float) -> str:
    """A range end for people: `600`, `1,000,000`, `0.01`, `1e9`, `2**63-1`."""
    if value == 2**63 - 1:
        return "2**63-1"
    if float(value).is_integer() and abs(value) < 1e7:
        return f"{int(value):,}"
    return f"{value:g}".replace("e+0", "e").replace("e+", "e")


def is_whole(value: object) -> bool:
    """Whether `value` is a whole number here: a Python or numpy integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def whole_number(name: str, value: object, lo: int, hi: int) -> int:
    """`value` as an int if it is a whole number from `lo` to `hi` (both allowed); else the one-line error."""
    span = f"from {number_text(lo)} to {number_text(hi)}"
    if not is_whole(value):
        raise ArgumentTypeError(f"{name} must be a whole number {span}, got {shown(value)}")
    number = int(value)  # type: ignore[call-overload]
    if not lo <= number <= hi:
        raise ValueError(f"{name} must be {span}, got {shown(value)}")
    return number


def finite_number(name: str, value: object, lo: float, hi: float) -> float:
    """`value` as a float if it is a finite number from `lo` to `hi` (both allowed); else the one-line error."""
    span = f"from {number_text(lo)} to {number_text(hi)}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a number {span}, got {shown(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        number = math.inf if value > 0 else -math.inf
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number {span}, got {shown(value)}")
    if not lo <= number <= hi:
        raise ValueError(f"{name} must be {span}, got {shown(value)}")
    return number


def instance(name: str, value: Any, kind: type[T] | tuple[type, ...], what: str) -> T:
    """`value` itself if it is a `kind`; else an `ArgumentTypeError` saying it must be `what`, and what it is."""
    if not isinstance(value, kind):
        raise ArgumentTypeError(f"{name} must be {what}, not {type(value).__name__} ({shown(value)})")
    return value


def flag(name: str, value: object) -> bool:
    """`value` as a bool if it is one (Python's or numpy's); a number or a string is not taken for one."""
    if isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")):
        return bool(value)
    raise ArgumentTypeError(f"{name} must be True or False, got {shown(value)}")


def function(name: str, value: T, what: str) -> T:
    """`value` itself if it can be called; else an `ArgumentTypeError` saying it must be `what`."""
    if not callable(value):
        raise ArgumentTypeError(f"{name} must be {what}, got {shown(value)}")
    return value


def path_text(name: str, value: object, what: str) -> str:
    """`value` as text if it is a `str` or a path-like naming text (`pathlib.Path`); else an `ArgumentTypeError`."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{name} must be {what}, got {shown(value)}")
    return value
