"""Argument types and flag groups shared by `tilerunner` subcommands, so bad values fail in argparse in one line.

Every numeric flag has a documented range and is refused by argparse outside it, with one line
naming the flag, the range and the value (`argument --scale: must be at most 16, got 100000`);
nan, inf and numbers too long to be numbers are refused the same way. The ranges of the episode
settings (`--frame-skip`, `--max-frames`, the fitness terms ...) are `EpisodeSettings.LIMITS`, so
the flags and the library cannot disagree; the others are here, those the Python API takes too imported
from where it checks them (`tilerunner.evolve.runs.run_options`, `tilerunner.evolve.viewer.recording`):

    --pop                     2 - 100,000 (`POP_SIZE_RANGE` of the neat config)
    --generations             1 - 1,000,000
    --seed                    0 - 2**63-1 (a 64-bit seed)
    --workers                 1 - 4,096
    --actors                  1 - 100,000 (Ray actors; the cluster must have a CPU for each)
    --checkpoint-every        1 - 1,000,000
    replay --scale            1 - 16
    replay --frame-step       1 - 600 (GIF frame times stay within GIF's limit)
    --speed                   0.01 - 1,000
    --duration                0.01 - 604,800 seconds (a week)
    play --view-radius        0 - 20 (as `EpisodeSettings.LIMITS["view_radius"]`)
    levels solve --width      1 - 100,000
    bench ...                 each flag's range is in `tilerunner.evolve.commands.bench`

Every command speaks one grammar (a test walks the parser to hold it): a set of levels is `--level SET`
(repeatable), one count is `--pop N` / `--actors N`, a list of counts a plural, `--sizes N,N,...`;
`--seeds N` means seeds 0 to N-1; run and bench budgets are `--time-limit MINUTES`, playback lengths
`--duration SECONDS`. Every numeric flag shows its range in --help (`span`) and its type carries it
(`.range`). A renamed flag keeps its old spelling for one release (`add_old_name`).

`--jump-rule` takes the names of `tilerunner.envs.physics.JUMP_RULES` and is added by `add_jump_rule_flag`,
so that every command spells and explains it alike; `DEFAULT_JUMP_RULE` is the one default.

Paths the user asks to write are checked before any long work starts (`check_output_file`,
`check_output_folder`), so a typo costs one line, not a finished evolution or recording; an output that
is one of the command's own inputs (`eval R.json --json R.json`, however spelled or linked) is refused
before anything is read (`check_not_an_input`). What can still go wrong while writing (the disk fills
up, it turns read-only) is one line too: `writing`.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.core.renamed import REMOVED_IN

# The library's ranges, which the Python API checks too: one table for both.
from tilerunner.evolve.runs.run_options import (  # noqa: F401  (imported from here by the commands)
    CHECKPOINT_EVERY_RANGE,
    CURRICULUM_RANGE,
    GENERATIONS_RANGE,
    LEVELS_PER_GEN_RANGE,
    SEED_RANGE,
    SEED_SHARE_RANGE,
    WORKERS_RANGE,
)
from tilerunner.evolve.viewer.recording import FRAME_STEP_RANGE, SCALE_RANGE  # noqa: F401

ACTORS_RANGE = (1, 100_000)
DEFAULT_SEED_SHARE = 0.1  # evolve/bench --seed-rules without a share
MINUTES_RANGE = (0.01, 10_000_000.0)  # evolve --time-limit
SPEED_RANGE = (0.01, 1000.0)
DURATION_RANGE = (0.01, 604_800.0)
BEAM_WIDTH_RANGE = (1, 100_000)
_MAX_DIGITS = 30  # longer than any number in range; int() of thousands of digits is slow or refused


def number_text(value: float) -> str:
    """A range end for people: `1e9`, `0.01`, `1,000,000` (no `1e+09`)."""
    if float(value).is_integer() and abs(value) < 1e7:
        return f"{int(value):,}"
    return f"{value:g}".replace("e+0", "e").replace("e+", "e")


def span(lo: float, hi: float) -> str:
    """A flag's range as --help shows it: `1 to 1,000`, `0.01 to 1e7`, `0 to 2**63-1`."""

    def end(value: float) -> str:
        return "2**63-1" if value == 2**63 - 1 else number_text(value)

    return f"{end(lo)} to {end(hi)}"


def _shown(text: str) -> str:
    """A flag's text for a message: quoted, escaped, and short."""
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def int_in(lo: int, hi: int) -> Callable[[str], int]:
    """argparse type: a whole number from `lo` to `hi` (both allowed); anything else is one argparse line."""

    def parse(text: str) -> int:
        stripped = text.strip().replace("_", "")
        if len(stripped) > _MAX_DIGITS:
            raise argparse.ArgumentTypeError(f"must be a whole number from {lo:,} to {hi:,}, got {_shown(text)}")
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {_shown(text)}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"must be at least {lo:,}, got {value:,}")
        if value > hi:
            raise argparse.ArgumentTypeError(f"must be at most {hi:,}, got {value:,}")
        return value

    parse.__name__ = f"whole number from {lo} to {hi}"
    parse.range = (lo, hi)  # type: ignore[attr-defined]  # for --help and the tests that hold it to its range
    return parse


def int_list(what: str, lo: int, hi: int, most: int) -> Callable[[str], list[int]]:
    """argparse type: up to `most` comma-separated whole numbers, each from `lo` to `hi` (`what` names them in
    the one line a bad list gets: "expected up to 20 comma-separated population sizes from 2 to 100,000")."""
    expected = f"expected up to {most} comma-separated {what} from {lo:,} to {hi:,}"

    def parse(text: str) -> list[int]:
        parts = text.split(",")
        if len(parts) > most or any(len(p.strip().replace("_", "")) > _MAX_DIGITS for p in parts):
            raise argparse.ArgumentTypeError(f"{expected}, got {_shown(text)}")
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{expected}, got {_shown(text)}") from None
        if not all(lo <= v <= hi for v in values):
            raise argparse.ArgumentTypeError(f"{expected}, got {_shown(text)}")
        return values

    parse.__name__ = f"whole number from {lo} to {hi}, comma-separated"
    parse.range = (lo, hi)  # type: ignore[attr-defined]
    return parse


def float_in(lo: float, hi: float) -> Callable[[str], float]:
    """argparse type: a finite number from `lo` to `hi` (both allowed); nan, inf and the rest are refused."""

    def parse(text: str) -> float:
        if len(text.strip()) > 4 * _MAX_DIGITS:
            raise argparse.ArgumentTypeError(
                f"must be a number from {number_text(lo)} to {number_text(hi)}, got {_shown(text)}"
            )
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {_shown(text)}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {_shown(text)}")
        if value < lo:
            raise argparse.ArgumentTypeError(f"must be at least {number_text(lo)}, got {_shown(text)}")
        if value > hi:
            raise argparse.ArgumentTypeError(f"must be at most {number_text(hi)}, got {_shown(text)}")
        return value

    parse.__name__ = f"number from {number_text(lo)} to {number_text(hi)}"
    parse.range = (lo, hi)  # type: ignore[attr-defined]
    return parse


def setting_type(name: str) -> Callable[[str], int | float]:
    """argparse type for the episode setting `name`, with the range `EpisodeSettings.LIMITS` gives it."""
    from tilerunner.evolve.core.fitness import EpisodeSettings

    lo, hi = EpisodeSettings.LIMITS[name]
    return int_in(int(lo), int(hi)) if name in EpisodeSettings.WHOLE else float_in(lo, hi)


# A few words on each observation feature of `tilerunner.envs.observe.FEATURES`, in its order (its
# docstring says every input); a test holds the two lists equal.
FEATURE_ABOUT = {
    "speed": "3 inputs: the player's speeds and whether it stands on something",
    "enemy-kinds": "no inputs: stompable enemies -0.5 in the grid, spiky ones -1",
    "jump": "3 inputs: on the ground, may jump now, lift left if A stays held",
    "enemy-grid": "(2r+1)^2 inputs: the enemies in a grid of their own, tiles alone in the first",
    "position": "2 inputs: where the player is within its tile",
    "probes": "7 inputs: the next gap's distance and width, the next wall's distance and height, the nearest"
    " enemy ahead's dx, dy and kind",
    "foresight": "45 inputs: nine candidate moves (run, jump, hop, wait, back; keep-a, let-go, drift, steer-back)"
    " played forward by the physics over what is in view, each's progress, dies, stomps, away and frames",
    "no-grid": "takes the grid's (2r+1)^2 inputs away: the network sees only the other features",
}
OBSERVE_HELP = (
    "opt-in observation features on top of MarI/O's grid, comma-separated: "
    + "; ".join(f"{name} ({about})" for name, about in FEATURE_ABOUT.items())
    + "; default none, the grid alone"
)


def features_type(text: str) -> tuple[str, ...]:
    """argparse type for `--observe`: comma-separated observation feature names, each known."""
    from tilerunner.envs.observe import FEATURES

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"expected feature names ({', '.join(FEATURES)}), got {_shown(text)}")
    for name in names:
        if name not in FEATURES:
            raise argparse.ArgumentTypeError(f"unknown feature {_shown(name)}; the features are {', '.join(FEATURES)}")
    return names


# The jump rule a command uses when --jump-rule is not given (a replay keeps its own). One place, so
# that it can be switched once the experiment of issue 21 says which rule agents should learn under.
DEFAULT_JUMP_RULE = "hold"
JUMP_RULE_ABOUT = {  # every name of `tilerunner.envs.physics.JUMP_RULES` (a test holds them equal)
    "press": "a jump needs A pressed anew on the ground and releasing A ends the lift (Super Mario Bros and"
    " the Mario AI Framework)",
    "hold": "holding A jumps again on every landing (this project's first rule; runs and replays made before"
    " rules existed play by it)",
}


def add_jump_rule_flag(
    p: argparse.ArgumentParser, default: str | None = DEFAULT_JUMP_RULE, default_text: str | None = None
) -> None:
    """Add `--jump-rule press|hold`, spelt, checked and explained alike on every command that sets up episodes.

    argparse refuses any other rule in one line. `default` None leaves the choice to the command
    (a resumed run or a replay keeps its own rule); `default_text` then says what happens.
    """
    from tilerunner.envs.physics import JUMP_RULES

    rules = "; or ".join(f"{name}, {about}" for name, about in JUMP_RULE_ABOUT.items())
    p.add_argument(
        "--jump-rule",
        choices=JUMP_RULES,
        default=default,
        metavar="|".join(JUMP_RULE_ABOUT),
        help=f"the world's jump rule: {rules} (default {default_text or default})",
    )


RENAMED_NOTICES = "_renamed_notices"
"""Where a parse collects its renamed-flag notices; the parser prints them once the whole line has parsed."""


class _OldName(argparse.Action):
    """A renamed flag's old spelling: does what the new flag does, and leaves a notice saying so.

    The notice waits in the namespace (`RENAMED_NOTICES`) until parsing succeeds, so that a line with
    another mistake gets its one error line and nothing else.
    """

    def __init__(self, option_strings: list[str], dest: str, new: argparse.Action, **kwargs) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        new = self.new.option_strings[0]
        notice = f"tilerunner: {option_string} is now {new} (the old name goes in tilerunner {REMOVED_IN})"
        namespace.__dict__.setdefault(RENAMED_NOTICES, []).append(notice)
        self.new(parser, namespace, values, new)


def add_old_name(p: argparse.ArgumentParser, old: str, new: argparse.Action) -> None:
    """Keep `old`, the spelling flag `new` had before it was renamed, working for one release.

    Hidden from --help and the docs; it takes the same values (type, choices, nargs) into the same
    destination, so a command sees no difference, and its user reads one line on stderr:
    `tilerunner: --levels is now --level (the old name goes in tilerunner 0.4.0)`.
    """
    p.add_argument(
        old,
        action=_OldName,
        new=new,
        dest=new.dest,
        nargs=new.nargs,
        const=new.const,
        type=new.type,
        choices=new.choices,
        metavar=new.metavar,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )


def add_viewer_flags(p: argparse.ArgumentParser) -> None:
    """Flags every viewer command shares: speed, screenshot, duration."""
    p.add_argument(
        "--speed",
        type=float_in(*SPEED_RANGE),
        default=1.0,
        metavar="FACTOR",
        help=f"playback speed, {span(*SPEED_RANGE)} (default 1.0: game speed, 60 frames/s)",
    )
    p.add_argument(
        "--screenshot",
        metavar="PATH",
        help="save one viewer frame from the middle of the episode as PNG and exit (no window)",
    )
    p.add_argument(
        "--duration",
        type=float_in(*DURATION_RANGE),
        metavar="SECONDS",
        help=f"close the window after SECONDS, {span(*DURATION_RANGE)} (for demos and recordings)",
    )


def check_viewer_flags(args: argparse.Namespace) -> None:
    """Reject nonsense in the shared viewer flags with one line (the ranges are argparse's; the path is here)."""
    if not SPEED_RANGE[0] <= args.speed <= SPEED_RANGE[1]:
        raise UserError(f"--speed must be from {SPEED_RANGE[0]:g} to {SPEED_RANGE[1]:g}, got {args.speed}")
    if args.duration is not None and not DURATION_RANGE[0] <= args.duration <= DURATION_RANGE[1]:
        raise UserError(
            f"--duration must be from {DURATION_RANGE[0]:g} to {DURATION_RANGE[1]:g} seconds, got {args.duration}"
        )
    if args.screenshot:
        check_output_file(args.screenshot, "--screenshot")


def _nearest_existing(path: Path) -> Path:
    """`path` or its nearest ancestor that exists (lexically, as the OS will walk it)."""
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def _writable_folder(folder: Path) -> str | None:
    """Why files cannot be made in the existing folder `folder`, or None if they can.

    Tried, not guessed: an empty folder is made there and removed at once, which fails on a
    read-only file system, in /proc, or without permission, even for root (who passes `os.access`).
    """
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".tilerunner-probe-", dir=folder))
    except OSError as exc:
        return f"cannot write in {folder}: {exc.strerror or exc}"
    return None


def check_output_file(path: str | os.PathLike, flag: str) -> Path:
    """`path` if a file can be written there (its folder exists and is writable, it is not a folder or a device).

    Otherwise a `UserError` in one line naming the flag, the path and the reason. Checked before any long
    work, so that a typo costs one line, not a finished recording.
    """
    text = os.fspath(path)
    if not text:
        raise UserError(f"{flag}: empty path")
    target = Path(text)
    if text.endswith(("/", os.sep)) or target.is_dir():
        raise UserError(f"{flag} {text}: is a folder; give the name of a file to write")
    if os.path.lexists(target) and not target.is_file():
        raise UserError(f"{flag} {text}: exists and is not a regular file (a device, socket or broken link)")
    folder = target.parent
    if not folder.exists():
        existing = _nearest_existing(folder)
        if existing.exists() and not existing.is_dir():
            raise UserError(f"{flag} {text}: {existing} is a file, not a folder")
        raise UserError(f"{flag} {text}: no such folder {folder} (make it first)")
    problem = _writable_folder(folder)
    if problem:
        raise UserError(f"{flag} {text}: {problem}")
    if target.exists() and not os.access(target, os.W_OK):
        raise UserError(f"{flag} {text}: cannot overwrite it (read-only)")
    return target


def check_output_folder(path: str | os.PathLike, flag: str) -> Path:
    """`path` if files can be written in it: an existing writable folder, or one that can be made.

    Otherwise a `UserError` in one line naming the flag, the path and the reason. Nothing is created.
    """
    text = os.fspath(path)
    if not text:
        raise UserError(f"{flag}: empty path")
    folder = Path(text)
    if os.path.lexists(folder) and not folder.is_dir():
        raise UserError(f"{flag} {text}: is a file, not a folder")
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise UserError(f"{flag} {text}: {existing} is a file, not a folder")
    problem = _writable_folder(existing)
    if problem:
        raise UserError(f"{flag} {text}: {problem}")
    return folder


def check_not_an_input(output: str | os.PathLike, flag: str, inputs: Iterable[str | os.PathLike]) -> None:
    """A `UserError` in one line if the file `output` names is one of `inputs`, the files the command reads.

    Compared as files (`os.path.samestat`), so `./R.json`, a symbolic link to R.json and a hard link to it are
    all R.json; a folder among `inputs` stands for every file in it. Called before any work, since writing the
    output replaced the input: `eval R.json --json R.json` left the report where the replay was.
    """
    try:
        written = os.stat(output)
    except (OSError, ValueError):  # nothing there yet (or no path: check_output_file says so): no input
        return
    for path in inputs:
        found = _same_file(written, Path(path))
        if found is not None:
            raise UserError(
                f"{flag} {os.fspath(output)}: is {found}, which this command reads, and writing there would"
                " destroy it: give another path"
            )


def _same_file(written: os.stat_result, path: Path) -> Path | None:
    """`path`, or the file in the folder `path` (at any depth), that is the file `written` is; else None."""
    try:
        if os.path.samestat(written, os.stat(path)):
            return path
    except (OSError, ValueError):  # not there (a built-in level id, a shipped name): not a file that is read
        return None
    if path.is_dir():
        for folder, _, names in os.walk(path):
            for name in names:
                found = _same_file(written, Path(folder, name))
                if found is not None:
                    return found
    return None


def level_files(specs: Iterable[str] | None) -> list[str]:
    """The files `--level` sets name, for `check_not_an_input`: folders and globs expanded as the commands expand
    them (`level_set`); built-in ids and `gen:` draws name none. A set that is wrong is left for the command to say."""
    from tilerunner.envs.level import LevelError, level_set

    files: list[str] = []
    for spec in specs or ():
        if spec.startswith("gen:"):  # a draw, perhaps of thousands of levels: no file among them
            continue
        try:
            files += level_set(spec)
        except (LevelError, ValueError, TypeError):
            continue
    return files


@contextlib.contextmanager
def writing(path: str | os.PathLike) -> Iterator[None]:
    """Turn an `OSError` while writing `path` (the user's output) into one line: `PATH: cannot write: REASON`.

    For what `check_output_file` cannot see coming: a disk that fills up or turns read-only while the
    file is written. The writes inside are atomic (`write_atomic`, `atomic_path`, `render.save_png`),
    so nothing partial or temporary is left behind.
    """
    try:
        yield
    except BrokenPipeError:  # stdout closed (`| head`), not the file: the CLI handles it
        raise
    except OSError as exc:
        raise UserError(f"{os.fspath(path)}: cannot write: {exc.strerror or exc}") from None
