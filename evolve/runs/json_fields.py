"""The one validator every JSON file the project reads goes through (replays, genomes, stats, args).

A file from disk may hold anything: `parse_json` turns bytes into JSON values or one line
saying what is wrong (not UTF-8, bad syntax at line:column, nested too deeply), and a
`FieldReader` takes typed fields out of the parsed objects, naming the path of anything
missing or of the wrong kind (`episodes[0].outcome.frames: expected a whole number, got "many"`).
Each file format raises its own subclass of `FormatError`, so callers can tell them apart,
and every message is one line.

Kinds: `int` (a whole number that fits 64 bits, -2**63 to 2**63-1; true/false are not numbers
here), `count` (a whole number from 0 to 2**63-1), `number` (a finite float, or an int that fits
a float: up to about 1.8e308), `bool`, `str` (one line: no control characters, so no newlines
and no terminal escapes), `text` (several lines: newlines and tabs allowed, other control
characters not), `list`, `object`; `kind|null` also allows null. Ranges narrower than a kind's
are the reader's (e.g. `EpisodeSettings.LIMITS`).

Files are read with `tilerunner.envs.bounded_read.read_regular_file`: only regular files, and
only up to a size limit, so that a path inside a file (a replay's `run`) naming /dev/zero,
/dev/stdin or a FIFO cannot hang a command or exhaust memory.
"""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any

INT_LIMIT = 2**63  # whole numbers are within [-INT_LIMIT, INT_LIMIT - 1]: they fit an int64
# Characters that are not allowed in one-line strings besides control characters (Cc): line and
# paragraph separators, and the bidirectional controls that can make text read differently.
_INVISIBLE = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """`text` with every control character and bidirectional override escaped (`\\x1b`), safe to print."""
    return "".join(ascii(ch)[1:-1] if ch in _INVISIBLE or unicodedata.category(ch) == "Cc" else ch for ch in text)


class FormatError(ValueError):
    """A file whose content cannot be used; the message is one line for the user."""


_WANTED = {
    "int": "a whole number",
    "count": "a whole number >= 0",
    "number": "a finite number",
    "bool": "true or false",
    "str": "a string",
    "text": "a string",
    "list": "a list",
    "object": "an object",
    "null": "null",
}


_WANTED_BIG = {
    "int": "a whole number from -2**63 to 2**63-1",
    "count": "a whole number from 0 to 2**63-1",
    "number": "a finite number (at most about 1.8e308)",
}


def _fits_float(value: int) -> bool:
    try:
        float(value)
    except OverflowError:
        return False
    return True


def bad_character(text: str, lines: bool = False) -> str | None:
    """The first character of `text` a printable string must not hold (escaped, e.g. `\\x1b`), or None.

    Control characters (terminal escapes among them) and bidirectional overrides are refused;
    with `lines`, newlines, carriage returns and tabs are allowed.
    """
    for ch in text:
        if lines and ch in "\n\r\t":
            continue
        if ch in _INVISIBLE or unicodedata.category(ch) == "Cc":
            return ascii(ch)[1:-1]
    return None


def _is(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "bool":
        return isinstance(value, bool)
    if kind in ("str", "text"):
        return isinstance(value, str)
    if kind == "list":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if isinstance(value, bool):
        return False
    if kind == "int":
        return isinstance(value, int) and -INT_LIMIT <= value < INT_LIMIT
    if kind == "count":
        return isinstance(value, int) and 0 <= value < INT_LIMIT
    if kind == "number":  # an int must fit a float; a float must be finite
        return (isinstance(value, int) and _fits_float(value)) or (isinstance(value, float) and math.isfinite(value))
    raise ValueError(f"unknown kind {kind!r}")


def shown(value: Any) -> str:
    """A JSON value in a few characters, escaped (no control characters reach a terminal), for messages."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and not -(10**30) < value < 10**30:
        digits = len(str(abs(value))) if value.bit_length() < 10_000 else None
        return f"a whole number of {digits} digits" if digits else "a whole number of thousands of digits"
    text = json.dumps(value)  # ensure_ascii: every control character is escaped
    return text if len(text) <= 40 else text[:37] + "..."


class FieldReader:
    """Typed access to parsed JSON; raises `error` (a `FormatError` subclass) naming the field's path."""

    def __init__(self, error: type[FormatError] = FormatError) -> None:
        self.error = error

    def check(self, value: Any, kind: str, where: str) -> Any:
        """`value` if it is of `kind` (see the module docstring), else the error for `where`."""
        kinds = kind.split("|")
        if not any(_is(value, k) for k in kinds):
            whole = isinstance(value, int) and not isinstance(value, bool)
            big = whole and not -INT_LIMIT <= value < INT_LIMIT  # out of range, not of the wrong kind
            wanted = " or ".join(_WANTED_BIG.get(k, _WANTED[k]) if big else _WANTED[k] for k in kinds)
            raise self.error(f"{where}: expected {wanted}, got {shown(value)}")
        if isinstance(value, str) and ("str" in kinds or "text" in kinds):
            bad = bad_character(value, lines="text" in kinds)
            if bad is not None:
                what = "one line of printable text" if "text" not in kinds else "printable text"
                raise self.error(f"{where}: expected {what}, got a string with the control character {bad}")
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
