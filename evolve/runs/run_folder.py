"""The run folder: everything needed to resume, plot, watch and replay a run, written atomically.

    runs/<level>-<date>-s<seed>/
        config.ini          the exact neat config the run uses
        args.json           the command-line settings (levels, seed, fitness terms, ...)
        stats.jsonl         one line per generation; the same seed gives the same file
        timing.jsonl        seconds and frames/s per generation (these vary from run to run)
        champions/gen-NNNN.json   a replay (`tilerunner.evolve.runs.replay`) of each generation's best
                                  that is a new best-ever
        first-finishes/<level>-f<fitness>.json   the champion's replay the first time it finished each level
        checkpoints/gen-NNNN.json.gz   the state at the start of generation NNNN (`runs.checkpoint`)
        .lock               the id of the process running the run (the folder itself is locked: one run at a time)
        tensorboard/        TensorBoard event files (with --tensorboard)

A run writes nowhere else, unless asked to copy its first finishes somewhere (`--replays DIR`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tilerunner.envs.atomic import write_atomic
from tilerunner.envs.bounded_read import read_regular_file
from tilerunner.evolve.runs.json_fields import FieldReader, FormatError, parse_json

CHECKPOINTS_KEPT = 3
CHECKPOINT_SUFFIX = ".json.gz"
LOCK_FILE = ".lock"
MAX_CONFIG_BYTES = 1024 * 1024
MAX_ARGS_BYTES = 1024 * 1024
# What args.json must hold for a run to be resumed (more keys are kept as written).
ARGS_KINDS = {"levels": "list", "seed": "int", "generations": "count", "keep_going": "bool"}
ARGS_OPTIONAL = {"replays": "str|null", "checkpoint_every": "count"}  # not written by tilerunner 0.1
MAX_CHECKPOINT_BYTES = 512 * 1024 * 1024  # a checkpoint file as stored (gzipped); unpacked it has a limit too
RUN_FILES = ("config.ini", "args.json", "stats.jsonl", "timing.jsonl", LOCK_FILE)
SUBFOLDERS = ("champions", "checkpoints", "first-finishes", "tensorboard")
_CHECKPOINT = re.compile(r"gen-(\d+)\.json\.gz$")
# What `tilerunner.envs.atomic.atomic_path` names its temporary files: .<stem>.<8 random>.tmp<ext>
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(\.[A-Za-z0-9]+)?$")
_CHAMPION = re.compile(r"gen-(\d+)\.json$")


class RunFolderError(FormatError):
    """A run folder that cannot be used (no checkpoint, unreadable state); one line for the user."""


def safe_stem(level_id: str) -> str:
    """A level id as a file-name stem: `1-1`, `gen-7-3`, `mine` (for `levels/mine.txt`)."""
    stem = Path(level_id).stem if os.sep in level_id or level_id.endswith(".txt") else level_id
    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "level"


def default_name(levels: list[str], seed: int, now: _dt.datetime | None = None) -> str:
    """`<level>-<date>-s<seed>`, e.g. `1-1-20261125-s0`; several levels add `+N`."""
    stem = safe_stem(levels[0])
    if len(levels) > 1:
        stem += f"+{len(levels) - 1}"
    date = (now or _dt.datetime.now()).strftime("%Y%m%d")
    return f"{stem}-{date}-s{seed}"


def unique_path(parent: Path, stem: str, suffix: str = "") -> Path:
    """parent/<stem><suffix>, or parent/<stem>-2<suffix>, -3 ... if that exists already."""
    path = parent / f"{stem}{suffix}"
    n = 2
    while path.exists():
        path = parent / f"{stem}-{n}{suffix}"
        n += 1
    return path


_read = FieldReader(RunFolderError)


class RunFolder:
    """Reads and writes one run folder."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._lock: int | None = None  # the locked descriptor of the folder
        self._made = False  # whether `lock` made the folder

    @property
    def champions(self) -> Path:
        return self.path / "champions"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def first_finishes(self) -> Path:
        return self.path / "first-finishes"

    @property
    def tensorboard(self) -> Path:
        return self.path / "tensorboard"

    def holds_a_run(self) -> bool:
        """Whether a run has started here already (so a new one must not): it has a checkpoint.

        A run writes its first checkpoint (generation 0) right after config.ini and args.json, so a
        folder without one holds nothing to resume and may be used afresh.
        """
        return bool(self.checkpoint_files()) or any(self.checkpoints.glob("gen-*.pkl"))

    def create(self, config_text: str, args: dict[str, Any]) -> None:
        """Make the folder (and its subfolders) and write the config and arguments."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.own_subfolder(self.champions)
            self.own_subfolder(self.checkpoints)
        except OSError as exc:
            raise RunFolderError(f"{self.path}: cannot create the run folder: {exc.strerror or exc}") from None
        write_atomic(self.path / "config.ini", config_text)
        self.write_args(args)

    def write_args(self, args: dict[str, Any]) -> None:
        write_atomic(self.path / "args.json", json.dumps(args, indent=2, sort_keys=True) + "\n")

    def read_args(self) -> dict[str, Any]:
        """args.json, checked: the settings a resumed run keeps (`RunFolderError` if unusable)."""
        file = self.path / "args.json"
        args = parse_json(
            read_regular_file(file, MAX_ARGS_BYTES, RunFolderError, "args.json", follow_links=False),
            str(file),
            RunFolderError,
        )
        try:
            for key, kind in ARGS_KINDS.items():
                _read.get(args, key, kind, "")
            for key, kind in ARGS_OPTIONAL.items():
                if key in args:
                    _read.get(args, key, kind, "")
        except RunFolderError as exc:
            raise RunFolderError(f"{file}: {exc}") from None
        return args

    def read_config(self) -> str:
        """The run's neat config text (config.ini), or `RunFolderError`."""
        file = self.path / "config.ini"
        raw = read_regular_file(file, MAX_CONFIG_BYTES, RunFolderError, "neat config", follow_links=False)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RunFolderError(f"{file}: not a text file (byte {exc.start} is not UTF-8)") from None

    def write_lines(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Rewrite a .jsonl file (stats or timing) atomically, one JSON object per line."""
        write_atomic(self.path / name, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))

    def champion_path(self, generation: int) -> Path:
        return self.champions / f"gen-{generation:04d}.json"

    def champion_files(self) -> list[Path]:
        """Champion files, oldest generation first."""
        if not self.champions.is_dir():
            return []
        return sorted(
            (p for p in self.champions.iterdir() if _CHAMPION.search(p.name)),
            key=lambda p: int(_CHAMPION.search(p.name).group(1)),
        )

    def drop_champions_from(self, generation: int) -> None:
        """Remove champions of `generation` and later (a resumed run writes them again)."""
        for path in self.champion_files():
            if int(_CHAMPION.search(path.name).group(1)) >= generation:
                path.unlink()

    def first_finish_path(self, level_id: str, fitness: float) -> Path:
        """Where the champion that first finished `level_id` is kept: the same name every time the same
        generation is played, so a run resumed after a crash writes the same file, not a second one."""
        return self.first_finishes / f"{safe_stem(level_id)}-f{fitness:.0f}.json"

    def lock(self) -> None:
        """Own the folder for as long as this process lives (or until `unlock`); one run at a time.

        The lock is an advisory `flock` on the folder itself (its open descriptor), which no file in it
        can stand in for: deleting or replacing RUN/.lock does not free the folder. The kernel drops it
        when the process ends however it ends, so a killed run never leaves the folder stuck. Then the
        folder's files are checked (`check_own_files`: no links out of it), temporary files a killed
        writer left are removed, and RUN/.lock is rewritten with this process's id, for people.
        `RunFolderError` if another process has the folder or its files are not its own.
        """
        if self._lock is not None:
            return
        self._made = not os.path.lexists(self.path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise RunFolderError(f"{self.path}: cannot use this folder: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            holder = self._holder()
            raise RunFolderError(
                f"{self.path} is in use by another tilerunner run"
                f"{f' (process {holder})' if holder else ''};"
                " wait for it to end, or choose another folder"
            ) from None
        self._lock = fd
        with self._abandoned_on_failure():
            self.check_own_files()
            self._remove_stale_temporaries()
            write_atomic(self.path / LOCK_FILE, f"{os.getpid()}\n")

    def _holder(self) -> str:
        """The process id RUN/.lock names (digits only), or '' if it names none."""
        try:
            text = read_regular_file(self.path / LOCK_FILE, 64, RunFolderError, "lock", follow_links=False)
        except RunFolderError:
            return ""
        holder = text.decode("ascii", "replace").strip()
        return holder if holder.isdigit() and len(holder) <= 12 else ""

    def check_own_files(self) -> None:
        """`RunFolderError` unless every file and folder a run writes here is its own: no symbolic links.

        A run folder may come from elsewhere (downloaded, shared); a link in it (RUN/.lock -> ~/notes.txt,
        RUN/checkpoints -> another run's) would let writing, truncating or pruning old checkpoints reach
        outside the folder. The folder itself may be reached through links; nothing inside it is followed.
        """
        for name in RUN_FILES + SUBFOLDERS:
            self._refuse_link(self.path / name)
        for name in RUN_FILES:
            if os.path.lexists(self.path / name) and not (self.path / name).is_file():
                raise RunFolderError(f"{self.path}: cannot use this folder: its {name} is not a regular file")
        for name in SUBFOLDERS:
            if os.path.lexists(self.path / name) and not (self.path / name).is_dir():
                raise RunFolderError(f"{self.path}: cannot use this folder: its {name} is not a folder")
        for name in SUBFOLDERS:
            folder = self.path / name
            if folder.is_dir():
                for entry in folder.iterdir():
                    self._refuse_link(entry)

    def _refuse_link(self, path: Path) -> None:
        if path.is_symlink():
            raise RunFolderError(
                f"{path}: a symbolic link (to {os.readlink(path)}); a run folder's files must be"
                " its own, since tilerunner writes nowhere outside it: remove the link"
            )

    def own_subfolder(self, path: Path) -> Path:
        """`path` (a subfolder of the run), made if missing and checked to be a real folder, not a link."""
        self._refuse_link(path)
        path.mkdir(exist_ok=True)
        if path.is_symlink() or not path.is_dir():
            raise RunFolderError(f"{path}: not a folder of this run")
        return path

    def _remove_stale_temporaries(self) -> None:
        """Remove the temporary files of writes a killed process left (`.config.x1y2z3w4.tmp.ini`).

        Only the lock's holder writes here, so any such file is a leftover, never a write in progress.
        """
        for folder in (self.path, *(self.path / name for name in SUBFOLDERS)):
            if folder.is_dir() and not folder.is_symlink():
                for entry in folder.iterdir():
                    if _TEMPORARY.match(entry.name) and not entry.is_symlink() and entry.is_file():
                        entry.unlink()

    @contextlib.contextmanager
    def setting_up(self) -> Iterator[None]:
        """Lock the folder for a run being set up; if setting up fails, let the lock go again.

        A failed write (a full disk, a read-only folder) becomes one `RunFolderError` naming the folder.
        A folder this call made is removed again, so a run that never started leaves nothing behind.
        """
        self.lock()
        with self._abandoned_on_failure():
            yield

    @contextlib.contextmanager
    def _abandoned_on_failure(self) -> Iterator[None]:
        """If the block fails, `_abandon` the folder; a failed write becomes one `RunFolderError` naming it."""
        try:
            yield
        except OSError as exc:
            self._abandon()
            raise RunFolderError(f"{self.path}: cannot write the run folder: {exc.strerror or exc}") from None
        except BaseException:
            self._abandon()
            raise

    def _abandon(self) -> None:
        """Let the lock go; remove the folder if this process made it and no run has started in it."""
        made = self._made and not self.holds_a_run()
        self.unlock()
        if made:
            shutil.rmtree(self.path, ignore_errors=True)

    def unlock(self) -> None:
        """Let other processes use the folder again."""
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor drops the lock
            self._lock = None

    def write_checkpoint(self, generation: int, blob: bytes) -> Path:
        """Write the checkpoint of `generation` (atomically), then drop all but the newest few."""
        path = self.own_subfolder(self.checkpoints) / f"gen-{generation:04d}{CHECKPOINT_SUFFIX}"
        write_atomic(path, blob)
        for old in self.checkpoint_files()[:-CHECKPOINTS_KEPT]:
            old.unlink()
        return path

    @staticmethod
    def checkpoint_generation(path: Path) -> int:
        """The generation a checkpoint file's name says it holds (`gen-0012.json.gz`: 12)."""
        return int(_CHECKPOINT.search(path.name).group(1))

    def checkpoint_files(self) -> list[Path]:
        """Checkpoint files, oldest generation first."""
        if not self.checkpoints.is_dir():
            return []
        return sorted(
            (p for p in self.checkpoints.iterdir() if _CHECKPOINT.search(p.name)),
            key=lambda p: int(_CHECKPOINT.search(p.name).group(1)),
        )

    def latest_checkpoint(self) -> tuple[Path, bytes]:
        """The newest checkpoint file and its bytes, or `RunFolderError` saying why there is none."""
        if not self.path.is_dir():
            raise RunFolderError(f"{self.path}: no such run folder")
        files = self.checkpoint_files()
        if not files:
            if any(self.checkpoints.glob("gen-*.pkl")):
                raise RunFolderError(
                    f"{self.path}: its checkpoints are pickles from tilerunner 0.1, which this"
                    " version never loads (a pickle can run code); resume it with 0.1"
                )
            raise RunFolderError(
                f"{self.path}: no checkpoint to resume from, so no run started here: start one"
                f" with tilerunner evolve --out {self.path}"
            )
        newest = files[-1]
        return newest, read_regular_file(newest, MAX_CHECKPOINT_BYTES, RunFolderError, "checkpoint", follow_links=False)
