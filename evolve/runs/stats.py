"""A run's stats.jsonl: one JSON object per generation, read back and fully checked.

`read_stats` is what the viewer, `tilerunner plot` and `tilerunner watch` use, so drawing
never meets garbage: anything wrong is a `StatsError` naming `file:line` and the field.
Only a regular file of at most `MAX_STATS_BYTES` (64 MiB, about 150,000 generations) is read,
so a path from elsewhere (a replay's `run`) naming a device or a pipe is refused, not read.
Whole numbers fit 64 bits, other numbers are finite, and an outcome's `status` and `cause`
are names the engine uses (`envs.physics.STATUS_NAMES`, `CAUSE_NAMES`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tilerunner.envs.bounded_read import read_regular_file
from tilerunner.envs.physics import CAUSE_NAMES, STATUS_NAMES
from tilerunner.evolve.runs.json_fields import FieldReader, FormatError, parse_json, shown

STATS_FILE = "stats.jsonl"
MAX_STATS_BYTES = 64 * 1024 * 1024
_NUMBERS = ("best_fitness", "mean_fitness", "best_ever")
_COUNTS = ("species", "finished", "population", "frames")
VALIDATION_KINDS = {
    "levels": "count",
    "finished": "count",
    "finished_share": "number",
    "mean_progress": "number",
    "genome": "int",
    "checked": "count",
    "best": "bool",
}
OUTCOME_KINDS = {
    "fitness": "number",
    "finished": "bool",
    "distance": "number",
    "frames": "count",
    "coins": "count",
    "kills": "count",
    "status": "str",
    "cause": "str",
}


class StatsError(FormatError):
    """A stats.jsonl that cannot be read or holds garbage; one line for the user."""


_read = FieldReader(StatsError)


def read_stats(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of a stats.jsonl (or of a run folder's), each checked; generations must increase."""
    path = Path(path)
    file = path / STATS_FILE if path.is_dir() else path
    if not os.path.lexists(file):
        raise StatsError(f"{path}: no {STATS_FILE} (not a run folder, or no generation finished yet)")
    data = read_regular_file(file, MAX_STATS_BYTES, StatsError, what=STATS_FILE)
    rows: list[dict[str, Any]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        row = parse_json(raw, str(file), StatsError, line=number)
        try:
            check_row(row)
        except StatsError as exc:
            raise StatsError(f"{file}:{number}: {exc}") from None
        if rows and row["generation"] <= rows[-1]["generation"]:
            raise StatsError(
                f"{file}:{number}: generation {row['generation']} after generation"
                f" {rows[-1]['generation']} (generations must increase)"
            )
        rows.append(row)
    return rows


def check_row(row: Any, where: str = "") -> dict[str, Any]:
    """One stats.jsonl row, checked field by field (`StatsError` without a file name otherwise); `where` names
    the row in messages (a checkpoint's `checkpoint.stats[3]`; a line of stats.jsonl is named by the caller)."""
    _read.check(row, "object", where or "the line")
    _read.get(row, "generation", "count", where)
    _read.get(row, "best_genome", "int", where)
    for key in _NUMBERS:
        _read.get(row, key, "number", where)
    for key in _COUNTS:
        _read.get(row, key, "count", where)
    if row["finished"] > row["population"]:
        raise StatsError(f"{_at(where, 'finished')} ({row['finished']}) is more than population ({row['population']})")
    for i, outcome in enumerate(_read.get(row, "best", "list", where)):
        for key, kind in OUTCOME_KINDS.items():
            _read.get(outcome, key, kind, _at(where, f"best[{i}]"))
        check_outcome_names(outcome, _at(where, f"best[{i}]"), StatsError)
    for key in ("levels", "rechecked"):  # with --levels-per-gen, gen:* or --curriculum: what it played; --recheck
        for i, level_id in enumerate(_read.get(row, key, "list", where) if key in row else []):
            _read.check(level_id, "str", _at(where, f"{key}[{i}]"))
    if "stage" in row:  # runs with --curriculum: the stage this generation played
        _read.get(row, "stage", "count", where)
    if "validation" in row:  # runs with --validate, on the generations they checked
        for key, kind in VALIDATION_KINDS.items():
            _read.get(row["validation"], key, kind, _at(where, "validation"))
    return row


def check_timing_row(row: Any, where: str) -> dict[str, Any]:
    """One timing.jsonl row: its generation, and numbers (seconds, frames per second, bytes) for the rest."""
    _read.get(row, "generation", "count", where)
    for key in row:
        _read.get(row, key, "number", where)
    return row


def _at(where: str, name: str) -> str:
    """The path of field `name` of the row at `where` ("" for a line of stats.jsonl)."""
    return f"{where}.{name}" if where else name


def check_outcome_names(outcome: dict[str, Any], where: str, error: type[FormatError]) -> None:
    """Refuse an outcome whose `status` or `cause` is not a name the engine uses (`error`, one line)."""
    if outcome["status"] not in STATUS_NAMES:
        raise error(f"{where}.status: expected one of {', '.join(STATUS_NAMES)}, got {shown(outcome['status'])}")
    if outcome["cause"] not in CAUSE_NAMES:
        causes = ", ".join(repr(c).replace("'", '"') for c in CAUSE_NAMES)
        raise error(f"{where}.cause: expected one of {causes}, got {shown(outcome['cause'])}")
