"""What only the commands' flags need: the ranges of their own numbers, the viewer's flags, and checks of the paths
the user asks to write.

The flag types (`int_in`, `float_in`, `span` ...) and `--jump-rule` and `--observe` are shared with the benchmarks,
in `tilerunner.evolve.flags.types`; a run option's flag and range come from its field (`option_flags`,
`tilerunner.evolve.runs.run_options`), an episode setting's from `EpisodeSettings.LIMITS`, replay's --scale and
--frame-step from `tilerunner.evolve.viewer.recording`, the ranges of the others are here.

Paths the user asks to write are checked before any long work starts (`check_output_file`,
`check_output_folder`), so a typo costs one line, not a finished evolution or recording; an output that
is one of the command's own inputs (`eval R.json --json R.json`, however spelled or linked) is refused
before anything is read (`check_not_an_input`). What can still go wrong while writing (the disk fills
up, it turns read-only) is one line too: `writing`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from tilerunner.envs.level import LevelError, level_set
from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.flags.types import float_in, span

ACTORS_RANGE = (1, 100_000)
SPEED_RANGE = (0.01, 1000.0)
DURATION_RANGE = (0.01, 604_800.0)
BEAM_WIDTH_RANGE = (1, 100_000)


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


def _nearest_existing(path: Path) -> Path:
    """`path` or its nearest ancestor that exists (lexically, as the OS will walk it)."""
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def _check_writable(folder: Path, flag: str, text: str) -> None:
    """A `UserError` naming `flag` and its value `text` unless files can be made in the existing folder `folder`.

    Tried, not guessed: an empty folder is made there and removed at once, which fails on a
    read-only file system, in /proc, or without permission, even for root (who passes `os.access`).
    """
    if not folder.is_dir():
        raise UserError(f"{flag} {text}: {folder} is not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".tilerunner-probe-", dir=folder))
    except OSError as exc:
        raise UserError(f"{flag} {text}: cannot write in {folder}: {exc.strerror or exc}") from None


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
    _check_writable(folder, flag, text)
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
    _check_writable(existing, flag, text)
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
