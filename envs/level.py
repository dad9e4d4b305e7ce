"""Level files: parse and validate the Mario AI Framework ASCII format into a `Level`.

A level is text, one character per 16 px tile, one line per row (usually 16 rows,
any width). `load_level` accepts a built-in id (`1-1`), a generator id
(`gen:SEED` or `gen:SEED:DIFFICULTY`) or a file path. Anything wrong with a file is
reported as a `LevelError` whose message is one line, `file:line:col: problem`.

Limits (documented in the levels guide): a level is at most `MAX_COLUMNS` (4,096) tiles wide and
`MAX_ROWS` (64) tall, and a level file at most `MAX_LEVEL_BYTES` (1 MiB; the largest level
is about 0.27 MB). The public Mario AI levels are 200 x 16; the built-in ones up to 220 x 16.
Only regular files are read (not folders, devices, pipes or terminals).
"""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from tilerunner.envs import generator
from tilerunner.envs import tiles as T
from tilerunner.envs.arguments import ArgumentTypeError, path_text, shown
from tilerunner.envs.bounded_read import read_regular_file
from tilerunner.envs.generator import DEFAULT_DIFFICULTY, MAX_DIFFICULTY

TILE_PX = 16
MAX_COLUMNS = 4096  # 65,536 px wide: 20 times the public Mario AI levels
MAX_ROWS = 64  # 1,024 px tall: 4 times the usual 16
MAX_LEVEL_BYTES = 1024 * 1024  # a full 4096 x 64 level is 266 KB

# Built-in levels, easiest first. The files are envs/levels/<id>.txt.
BUILTIN_LEVELS: dict[str, str] = {
    "1-1": "flat ground, small gaps (1-2 tiles), a few walkers",
    "1-2": "question blocks, coins, low pipes, more walkers",
    "1-3": "stairs, wider gaps (up to 4 tiles), ledge-turning walkers on raised ground",
    "1-4": "jump-through platforms over pits, winged walkers",
    "2-1": "tall pipes, brick ceilings, the first spiky enemies",
    "2-2": "wide gaps (6-8 tiles) that need a running jump",
    "2-3": "spiky and winged spiky enemies among platforms and wide gaps",
    "2-4": "everything: stairs, pipes, 9-tile gaps, platforms, spikies, winged enemies, hidden blocks",
}


BOM = "\ufeff"  # the byte order mark some editors write at the start of a UTF-8 file; not part of the level


class LevelError(ValueError):
    """A level id or level file that cannot be used; the message is one line for the user."""


@dataclass(frozen=True, eq=False)
class Level:
    """A validated level: the tile grid, where the player starts, where the exit is, the enemies.

    `tiles` is an int8 (rows, columns) grid of `envs.tiles` ids, row 0 at the top.
    `enemies` is an int64 (n, 4) array of (kind, winged, column, row).
    `text` is the level file's text, normalised to `\\n` line ends; `sha256` hashes it.
    """

    id: str
    text: str
    tiles: np.ndarray
    start: tuple[int, int]  # (column, row) of the tile the player starts in
    exit_col: int
    enemies: np.ndarray
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.text.encode()).hexdigest())
        self.tiles.setflags(write=False)
        self.enemies.setflags(write=False)

    @property
    def height(self) -> int:
        return int(self.tiles.shape[0])

    @property
    def width(self) -> int:
        return int(self.tiles.shape[1])

    @property
    def exit_px(self) -> int:
        """Pixels from the start column to the exit column (at least one tile): what progress is a share of."""
        return max(1, self.exit_col - self.start[0]) * TILE_PX


def _char_repr(ch: str) -> str:
    return repr(ch) if ch.isprintable() else repr(ch).replace("'", "")


def parse_level(data: str | bytes, source: str = "<level>", level_id: str | None = None) -> Level:
    """Parse level text (or raw file bytes) into a `Level`, or raise `LevelError` saying where it is wrong."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            raise LevelError(
                f"{source}:{line}:{col}: not a text file (byte 0x{data[exc.start]:02x} is not UTF-8)"
            ) from None
    data = data.removeprefix(BOM)  # editors on Windows start UTF-8 files with one
    if len(data) > MAX_LEVEL_BYTES:
        raise LevelError(f"{source}:1:1: too big for a level: {len(data):,} characters (at most {MAX_LEVEL_BYTES:,})")
    lines = data.split("\n")
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    while lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise LevelError(f"{source}:1:1: empty level file")
    width = len(lines[0])
    height = len(lines)
    if width > MAX_COLUMNS:
        raise LevelError(f"{source}:1:{MAX_COLUMNS + 1}: level too wide: {width:,} columns (at most {MAX_COLUMNS:,})")
    if height > MAX_ROWS:
        raise LevelError(f"{source}:{MAX_ROWS + 1}:1: level too tall: {height:,} rows (at most {MAX_ROWS})")
    grid = np.zeros((height, width), dtype=np.int8)
    enemies: list[tuple[int, int, int, int]] = []
    marks: dict[str, tuple[int, int]] = {}  # the start 'M' and the exit 'F', (column, row), where given
    for r, line in enumerate(lines):
        for c, ch in enumerate(line):
            info = T.CHAR_TABLE.get(ch)
            if info is None:
                what = "a tab" if ch == "\t" else ("a space" if ch == " " else _char_repr(ch))
                raise LevelError(
                    f"{source}:{r + 1}:{c + 1}: unknown character {what} (tilerunner levels chars lists the characters)"
                )
            if c >= width:
                break
            grid[r, c] = info.tile
            if info.enemy >= 0:
                enemies.append((info.enemy, int(info.winged), c, r))
            if ch in "MF":
                if ch in marks:
                    what, (fc, fr) = "start" if ch == "M" else "exit", marks[ch]
                    raise LevelError(
                        f"{source}:{r + 1}:{c + 1}: second {what} '{ch}' (the first is at {fr + 1}:{fc + 1})"
                    )
                marks[ch] = (c, r)
        if len(line) != width:
            raise LevelError(
                f"{source}:{r + 1}:{min(len(line), width) + 1}: ragged row: {len(line)} tiles, but row 1 has {width}"
            )
    if width == 0:
        raise LevelError(f"{source}:1:1: empty first row")

    floor = T.FLOOR[grid]
    start, exit_at = marks.get("M"), marks.get("F")
    if start is None:
        row = first_floor(lines, 0)
        while row >= 0 and T.SOLID[grid[row, 0]]:  # solid here though not ground to the framework
            row -= 1
        start = (0, row)
    else:
        c, r = start
        if not floor[r + 1 :, c].any():
            raise LevelError(f"{source}:{r + 1}:{c + 1}: no floor under the start 'M'")
    exit_col = exit_at[0] if exit_at is not None else width - 1
    if exit_col <= start[0]:
        where = exit_at if exit_at is not None else (exit_col, 0)
        raise LevelError(
            f"{source}:{where[1] + 1}:{where[0] + 1}: the exit must be to the right of the start"
            f" (start is in column {start[0] + 1})"
        )
    text = "\n".join(lines) + "\n"
    enemy_arr = np.array(enemies, dtype=np.int64).reshape(-1, 4)
    return Level(level_id or source, text, grid, start, exit_col, enemy_arr)


# What the Mario AI Framework counts as ground when it places a player without an 'M' (its
# MarioLevel.isSolid): jump-through platforms count, platform supports, cannons' necks, hidden
# blocks and coins do not.
START_GROUND = frozenset("X#@!BCQ<>[]?SUD%tT")


def first_floor(lines: list[str], col: int) -> int:
    """The row a player without an 'M' starts in, as the Mario AI Framework's `findFirstFloor` does.

    From the bottom of column `col`: past any empty tiles, up through the first ground, and the
    first tile above it that is not ground. Where a column has no such tile (nothing but empty
    tiles, or ground up to the top) the answer is -1: the player starts just above the top row and
    falls, so an agent that moves right at once lands on the next column.
    """
    seen_ground = False
    for r in range(len(lines) - 1, -1, -1):
        if lines[r][col] in START_GROUND:
            seen_ground = True
        elif seen_ground:
            return r
    return -1


def builtin_text(level_id: str) -> str:
    """The text of a built-in level file."""
    return resources.files("tilerunner.envs").joinpath("levels", f"{level_id}.txt").read_text("utf-8")


def parse_gen_id(spec: str) -> tuple[int, int]:
    """Split `gen:SEED[:DIFFICULTY]` into (seed, difficulty), or raise `LevelError`."""
    parts = spec.split(":")
    ok = len(parts) in (2, 3) and all(p.isdigit() and p.isascii() for p in parts[1:])
    if ok:
        seed = int(parts[1])
        difficulty = int(parts[2]) if len(parts) == 3 else DEFAULT_DIFFICULTY
        ok = seed < 2**63 and 1 <= difficulty <= MAX_DIFFICULTY
    if not ok:
        raise LevelError(
            f"{spec}: bad generator id: expected gen:SEED or gen:SEED:DIFFICULTY"
            f" (SEED a whole number >= 0, DIFFICULTY 1-{MAX_DIFFICULTY})"
        )
    return seed, difficulty


# What a level may be given as, for the message a wrong type gets.
LEVEL_ID = f"a level id ({min(BUILTIN_LEVELS)} ... {max(BUILTIN_LEVELS)}, gen:SEED[:DIFFICULTY])"


def level_spec(name: str, value: object) -> Level | str:
    """`value` if it is a `Level`, else as the text of a level id or path (a `pathlib.Path` is one); anything else
    is an `ArgumentTypeError` naming the parameter `name`."""
    if isinstance(value, Level):
        return value
    return path_text(name, value, f"{LEVEL_ID}, a level file's path or a Level")


def level_specs(name: str, levels: object) -> list[Level | str]:
    """`levels`, a list of `Level` objects, level ids and paths, as `Level`s and texts; one level on its own (whose
    characters would be taken for levels) or anything else is an `ArgumentTypeError` naming the parameter `name`."""
    if isinstance(levels, (str, bytes, os.PathLike, Level)):
        example = repr(os.fspath(levels)) if isinstance(levels, (str, os.PathLike)) else "level"
        raise ArgumentTypeError(
            f"{name} must be a list of levels or level ids, e.g. [{example}], not one {type(levels).__name__}"
        )
    try:
        items = list(levels)  # type: ignore[call-overload]
    except TypeError:
        raise ArgumentTypeError(f"{name} must be a list of levels or level ids, got {shown(levels)}") from None
    for i, item in enumerate(items):
        if not isinstance(item, (Level, str, os.PathLike)):
            raise ArgumentTypeError(
                f"{name} must be Level objects or level ids, not {type(item).__name__}: {name}[{i}] is {shown(item)}"
            )
    return [level_spec(f"{name}[{i}]", item) for i, item in enumerate(items)]


def load_level(spec: str | os.PathLike) -> Level:
    """Load a level by built-in id, `gen:SEED[:DIFFICULTY]`, or file path (text or a `pathlib.Path`)."""
    spec = path_text("spec", spec, f"{LEVEL_ID} or a level file's path")
    if spec in BUILTIN_LEVELS:
        return parse_level(builtin_text(spec), source=f"<built-in {spec}>", level_id=spec)
    if spec.startswith("gen:"):
        seed, difficulty = parse_gen_id(spec)
        level_id = f"gen:{seed}:{difficulty}"
        return parse_level(generator.generate_text(seed, difficulty), source=level_id, level_id=level_id)
    if any(not ch.isprintable() for ch in spec):  # the path becomes the level's id, printed and saved in replays
        raise LevelError(f"{ascii(spec)[1:-1]}: a level file's path must be printable text (it is the level's id)")
    if os.path.isdir(spec):
        raise LevelError(f"{spec}: is a folder, not a level file")
    if not os.path.exists(spec):
        raise LevelError(
            f"{spec}: unknown level: not a built-in id ({', '.join(BUILTIN_LEVELS)}),"
            " not gen:SEED[:DIFFICULTY], and no such file"
        )
    return parse_level(read_level_file(spec), source=spec, level_id=spec)


MAX_SET = 100_000  # levels one set may name


def gen_range(spec: str) -> list[str]:
    """`gen:A-B[:DIFFICULTY]` as the ids `gen:A[:D]` ... `gen:B[:D]`; any other `gen:` id as itself."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or "-" not in parts[1]:
        return [spec]
    first, _, last = parts[1].partition("-")
    if not (first.isdigit() and last.isdigit() and first.isascii() and last.isascii()):
        raise LevelError(f"{spec}: bad generator range: expected gen:A-B or gen:A-B:DIFFICULTY (A <= B, whole numbers)")
    a, b = int(first), int(last)
    if not a <= b < 2**63 or b - a >= MAX_SET:
        raise LevelError(f"{spec}: bad generator range: A <= B and at most {MAX_SET:,} levels")
    tail = f":{parts[2]}" if len(parts) == 3 else ""
    try:
        parse_gen_id(f"gen:{a}{tail}")  # the difficulty, checked once for the whole range
    except LevelError:
        raise LevelError(
            f"{spec}: bad generator range: DIFFICULTY must be a whole number from 1 to {MAX_DIFFICULTY}"
        ) from None
    return [f"gen:{seed}{tail}" for seed in range(a, b + 1)]


def level_set(spec: str | os.PathLike) -> list[str]:
    """The level specs a set names: a folder's `*.txt` files or a glob's matching files (sorted), a
    generator range `gen:A-B[:DIFFICULTY]`, else `[spec]`.

    So `--level levels/`, `--level 'levels/notch-*.txt'` or `--level gen:101-130:3` name many levels
    at once; a set that names no level is a `LevelError`. A built-in id is a set of one. `spec` may be a
    `pathlib.Path`.
    """
    spec = path_text("spec", spec, f"a level set: {LEVEL_ID}, a file, a folder or a glob")
    if spec in BUILTIN_LEVELS:
        return [spec]
    if spec.startswith("gen:"):
        return gen_range(spec)
    if os.path.isdir(spec):
        files = sorted(str(p) for p in Path(spec).glob("*.txt") if p.is_file())
        if not files:
            raise LevelError(f"{spec}: a folder with no level files (*.txt) in it")
        return files
    if glob.has_magic(spec):
        files = sorted(p for p in glob.glob(spec) if os.path.isfile(p))
        if not files:
            raise LevelError(f"{spec}: matches no level file")
        return files
    return [spec]


def read_level_file(path: str | os.PathLike) -> bytes:
    """The bytes of a level file: a regular file of at most `MAX_LEVEL_BYTES`, else `LevelError` in one line."""
    return read_regular_file(path, MAX_LEVEL_BYTES, LevelError, "level file")
