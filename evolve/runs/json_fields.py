"""The one validator every JSON file the project reads goes through (replays, genomes, stats, args).

A file from disk may hold anything: `parse_json` turns bytes into JSON values or one line
saying what is wrong (not UTF-8, bad syntax at line:column, nested too deeply), and a
`FieldReader` takes typed fields out of the parsed objects, naming the path of anything
missing or of the wrong kind (`episodes[0].outcome.frames: expected a whole number, got "many"`).
Each file format raises its own subclass of `FormatError`, so callers can tell them apart,
and every message is one line.

Kinds: `int` (a whole number; true/false are not numbers here), `count` (a whole number >= 0),
`number` (an int or a finite float), `bool`, `str`, `list`, `object`; `kind|null` also allows null.
"""

from __future__ import annotations

import json
import math
from typing import Any


class FormatError(ValueError):
    """A file whose content cannot be used; the message is one line for the user."""


_WANTED = {"int": "a whole number", "count": "a whole number >= 0", "number": "a finite number",
           "bool": "true or false", "str": "a string", "list": "a list", "object": "an object", "null": "null"}


def _is(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "list":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if isinstance(value, bool):
        return False
    if kind == "int":
        return isinstance(value, int)
    if kind == "count":
        return isinstance(value, int) and value >= 0
    if kind == "number":  # an int is finite; a float must be
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    raise ValueError(f"unknown kind {kind!r}")


def shown(value: Any) -> str:
    """A JSON value in a few characters, for messages."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float):
        return repr(value)
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


class FieldReader:
    """Typed access to parsed JSON; raises `error` (a `FormatError` subclass) naming the field's path."""

    def __init__(self, error: type[FormatError] = FormatError) -> None:
        self.error = error

    def check(self, value: Any, kind: str, where: str) -> Any:
        """`value` if it is of `kind` (see the module docstring), else the error for `where`."""
        kinds = kind.split("|")
        if not any(_is(value, k) for k in kinds):
            wanted = " or ".join(_WANTED[k] for k in kinds)
            raise self.error(f"{where}: expected {wanted}, got {shown(value)}")
        return value

    def object(self, value: Any, where: str) -> dict:
        return self.check(value, "object", where)

    def get(self, data: Any, key: str, kind: str, where: str) -> Any:
        """`data[key]`, checked to be of `kind`; `data` must be an object with that key.

        `where` is the path of `data` in the file ("" for the top level of a JSON Lines row).
        """
        self.object(data, where or "the line")
        if key not in data:
            raise self.error(f"{where}: missing {key!r}" if where else f"missing {key!r}")
        return self.check(data[key], kind, f"{where}.{key}" if where else key)


def parse_json(raw: bytes, source: str, error: type[FormatError] = FormatError, line: int | None = None) -> Any:
    """Bytes read from `source` to a JSON value, or `error` in one line naming where it went wrong.

    For one line of a JSON Lines file give its `line` number: positions are then `source:line`.
    """
    at = source if line is None else f"{source}:{line}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{at}: not a text file (byte {exc.start} is not UTF-8)") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"{source}:{exc.lineno}:{exc.colno}" if line is None else f"{at}, column {exc.colno}"
        raise error(f"{where}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise error(f"{at}: not usable JSON (nested too deeply)") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise error(f"{at}: not usable JSON ({str(exc).splitlines()[0][:60]})") from None
