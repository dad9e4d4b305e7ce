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

A run writes nowhere else, unless asked to copy its first finishes somewhere (`replays_dir`).

A run folder needs a POSIX system (Linux, macOS): it is locked with `fcntl.flock` and read and written through
its own descriptor (`dir_fd`, `O_NOFOLLOW`). Elsewhere (Windows) this module still imports, so that run folders
can be named and tilerunner imported, and `lock` refuses in one line (`RunFolderError`) before making anything.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fnmatch
import json
import os
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tilerunner.envs.atomic import write_atomic
from tilerunner.envs.bounded_read import read_regular_file
from tilerunner.evolve.core.option_error import OptionError
from tilerunner.evolve.runs.json_fields import FieldReader, FormatError, parse_json

try:
    import fcntl
except ImportError:  # not a POSIX system: `lock` says so
    fcntl = None

if TYPE_CHECKING:
    from tilerunner.evolve.runs.replay import Replay

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
_FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_PROC_FD = "/proc/self/fd"  # Linux: each open descriptor as a path that leads where it leads, moved or not
# What each of a run's own files and folders must be: (what it is called, the test of its mode)
_KINDS = {
    **{name: ("regular file", stat.S_ISREG) for name in RUN_FILES},
    **{name: ("folder", stat.S_ISDIR) for name in SUBFOLDERS},
}


class RunFolderError(FormatError):
    """A run folder that cannot be used (no checkpoint, unreadable state); one line for the user."""


class NoCheckpointError(OptionError, RunFolderError):
    """A folder with no checkpoint to resume from; the message names `out`, where a new run would go."""


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
    """Reads and writes one run folder.

    Once locked (`lock`), every read and write goes through the locked folder's own descriptor (`dir_fd`), never
    by its path, and no link inside it is followed: a folder moved mid-run keeps receiving its own files wherever
    it is now, and nothing lands in whatever took its old name (another run linked there, a new empty folder).
    Unlocked (a reader, such as the viewer), the folder is opened by its path for each call.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._lock: int | None = None  # the locked descriptor of the folder
        self._identity: tuple[int, int] | None = None  # (device, inode) of the folder this object locked first
        self._lent: list[int] = []  # descriptors of subfolders named to other writers (`tensorboard_logdir`)
        self._made = False  # whether `lock` made the folder

    @property
    def champions(self) -> Path:
        return self.path / "champions"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    def location(self) -> Path:
        """Where the folder is now: its path, or, if it was moved while this process holds it, where it went
        (read from /proc on Linux; elsewhere its path)."""
        if self._lock is None or self._still_at_path():
            return self.path
        with contextlib.suppress(OSError):
            return Path(os.readlink(f"{_PROC_FD}/{self._lock}"))
        return self.path

    def _still_at_path(self) -> bool:
        """Whether the folder's path still leads to the folder this object holds (False if it holds none)."""
        if self._lock is None:
            return False
        try:
            return os.path.samestat(os.stat(self.path), os.fstat(self._lock))
        except OSError:
            return False

    # Reading and writing through the folder's descriptor ----------------------------------------------------

    @contextlib.contextmanager
    def _folder(self, sub: str = "", make: bool = False) -> Iterator[int]:
        """A descriptor of the run folder, or of its subfolder `sub` (made first if `make`), for the block.

        A subfolder is opened from the folder's descriptor without following a link (`RunFolderError` if it is one).
        """
        root = self._lock if self._lock is not None else os.open(self.path, _FOLDER)
        try:
            if not sub:
                yield root
                return
            fd = self._open_subfolder(root, sub, make)
            try:
                yield fd
            finally:
                os.close(fd)
        finally:
            if root != self._lock:
                os.close(root)

    def _open_subfolder(self, root: int, sub: str, make: bool) -> int:
        """Open subfolder `sub` of the folder open as `root`, made first if `make`; never through a link."""
        if make:
            with contextlib.suppress(FileExistsError):
                os.mkdir(sub, dir_fd=root)
        try:
            return os.open(sub, _FOLDER | _NOFOLLOW, dir_fd=root)
        except OSError as exc:
            self._refuse_link(root, sub, self.location() / sub)
            if exc.errno == errno.ENOTDIR:
                raise RunFolderError(f"{self.location() / sub}: not a folder of this run") from None
            raise

    @contextlib.contextmanager
    def _naming(self, *parts: str) -> Iterator[None]:
        """Let an `OSError` of the block name the file `parts` lead to in the run folder, where the folder is now."""
        try:
            yield
        except OSError as exc:
            if exc.errno is None:
                raise
            raise OSError(exc.errno, exc.strerror, os.fspath(self.location().joinpath(*parts))) from None

    def _write(self, sub: str, name: str, data: str | bytes) -> None:
        """Write `name` into subfolder `sub` ('' for the run folder itself) atomically."""
        with self._naming(sub, name), self._folder(sub, make=bool(sub)) as fd:
            write_atomic(name, data, dir_fd=fd)

    def _read(self, sub: str, name: str, limit: int, what: str) -> bytes:
        """The bytes of regular file `name` in subfolder `sub` ('' for the run folder), or `RunFolderError`."""
        path = self.location() / sub / name
        try:
            with self._folder(sub) as fd:
                return read_regular_file(path, limit, RunFolderError, what, follow_links=False, dir_fd=fd)
        except OSError as exc:
            raise RunFolderError(f"{path}: cannot read: {exc.strerror or exc}") from None

    def _names(self, sub: str) -> list[str]:
        """The names in subfolder `sub`; none if it is missing, not a folder or a link."""
        try:
            with self._folder(sub) as fd:
                return os.listdir(fd)
        except (OSError, RunFolderError):
            return []

    def _remove(self, sub: str, name: str) -> None:
        with self._naming(sub, name), self._folder(sub) as fd:
            os.unlink(name, dir_fd=fd)

    def save_replay(self, replay: Replay, sub: str, name: str) -> Path:
        """Save `replay` as `name` in subfolder `sub` (champions, first-finishes), atomically; its path now."""
        with self._naming(sub, name), self._folder(sub, make=True) as fd:
            replay.save(name, dir_fd=fd)
        return self.location() / sub / name

    def tensorboard_logdir(self) -> str:
        """RUN/tensorboard (made, never through a link) as a path for a writer that takes only a path (tensorboardX).

        On Linux it is the folder's open descriptor (/proc/self/fd/N), held until `unlock`, so that the writer's
        event file lands in this run's tensorboard/ even if the run folder was moved; elsewhere, its path.
        """
        with self._naming("tensorboard"), self._folder() as root:
            fd = self._open_subfolder(root, "tensorboard", make=True)
        if self._lock is None or not os.path.isdir(_PROC_FD):
            os.close(fd)
            return os.fspath(self.path / "tensorboard")
        self._lent.append(fd)
        return f"{_PROC_FD}/{fd}"

    # The run's files ------------------------------------------------------------------------------------------

    def holds_a_run(self) -> bool:
        """Whether a run has started here already (so a new one must not): it has a checkpoint.

        A run writes its first checkpoint (generation 0) right after config.ini and args.json, so a
        folder without one holds nothing to resume and may be used afresh.
        """
        return bool(self.checkpoint_files()) or self._has_pickles()

    def _has_pickles(self) -> bool:
        """Whether checkpoints/ holds tilerunner 0.1's pickles."""
        return any(fnmatch.fnmatch(name, "gen-*.pkl") for name in self._names("checkpoints"))

    def create(self, config_text: str, args: dict[str, Any]) -> None:
        """Make the folder (and its subfolders) and write the config and arguments."""
        try:
            if self._lock is None:
                self.path.mkdir(parents=True, exist_ok=True)
            for sub in ("champions", "checkpoints"):
                with self._folder(sub, make=True):
                    pass
        except OSError as exc:
            raise RunFolderError(f"{self.path}: cannot create the run folder: {exc.strerror or exc}") from None
        self._write("", "config.ini", config_text)
        self.write_args(args)

    def write_args(self, args: dict[str, Any]) -> None:
        self._write("", "args.json", json.dumps(args, indent=2, sort_keys=True) + "\n")

    def read_args(self) -> dict[str, Any]:
        """args.json, checked: the settings a resumed run keeps (`RunFolderError` if unusable)."""
        file = self.location() / "args.json"
        args = parse_json(self._read("", "args.json", MAX_ARGS_BYTES, "args.json"), str(file), RunFolderError)
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
        raw = self._read("", "config.ini", MAX_CONFIG_BYTES, "neat config")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RunFolderError(
                f"{self.location() / 'config.ini'}: not a text file (byte {exc.start} is not UTF-8)"
            ) from None

    def write_lines(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Rewrite a .jsonl file (stats or timing) atomically, one JSON object per line."""
        self._write("", name, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))

    def champion_path(self, generation: int) -> Path:
        return self.champions / f"gen-{generation:04d}.json"

    def champion_files(self) -> list[Path]:
        """Champion files, oldest generation first."""
        return [self.champions / name for name in _by_generation(self._names("champions"), _CHAMPION)]

    def drop_champions_from(self, generation: int) -> None:
        """Remove champions of `generation` and later (a resumed run writes them again)."""
        for name in _by_generation(self._names("champions"), _CHAMPION):
            if int(_CHAMPION.search(name).group(1)) >= generation:
                self._remove("champions", name)

    # Owning the folder ------------------------------------------------------------------------------------------

    def lock(self) -> None:
        """Own the folder for as long as this process lives (or until `unlock`); one run at a time.

        The lock is an advisory `flock` on the folder itself (its open descriptor), which no file in it
        can stand in for: deleting or replacing RUN/.lock does not free the folder. The kernel drops it
        when the process ends however it ends, so a killed run never leaves the folder stuck. Then the
        folder's files are checked (`check_own_files`: no links out of it), temporary files a killed
        writer left are removed, and RUN/.lock is rewritten with this process's id, for people.
        `RunFolderError` if another process has the folder, its files are not its own, or (locked again)
        its path no longer leads to the folder this object locked before.
        """
        if self._lock is not None:
            return
        if fcntl is None:
            raise RunFolderError(
                f"{self.path}: a run folder needs Linux or macOS (a POSIX system): this Python has no fcntl"
                " module to lock it with"
            )
        fd = self._open_again() if self._identity is not None else self._open_or_make()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = self._holder(fd)
            os.close(fd)
            raise RunFolderError(
                f"{self.path} is in use by another tilerunner run"
                f"{f' (process {holder})' if holder else ''};"
                " wait for it to end, or choose another folder"
            ) from None
        self._lock, self._identity = fd, _identity(fd)
        with self._abandoned_on_failure():
            self.check_own_files()
            self._remove_stale_temporaries()
            self._write("", LOCK_FILE, f"{os.getpid()}\n")

    def _open_or_make(self) -> int:
        """The folder's descriptor, the folder made first if missing (`_made` says whether it was)."""
        self._made = not os.path.lexists(self.path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, _FOLDER)
        except OSError as exc:
            raise RunFolderError(f"{self.path}: cannot use this folder: {exc.strerror or exc}") from None

    def _open_again(self) -> int:
        """The folder's descriptor when locked again: `RunFolderError` (and nothing made) unless its path still
        leads to the folder this object locked before."""
        try:
            fd = os.open(self.path, _FOLDER)
        except OSError:
            fd = None
        if fd is None or _identity(fd) != self._identity:
            if fd is not None:
                os.close(fd)
            raise RunFolderError(
                f"{self.path}: no longer the folder this run was started in (it was moved or replaced);"
                " resume the run from where its folder is now"
            )
        return fd

    def _holder(self, fd: int) -> str:
        """The process id RUN/.lock names (digits only), or '' if it names none."""
        try:
            text = read_regular_file(self.path / LOCK_FILE, 64, RunFolderError, "lock", follow_links=False, dir_fd=fd)
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
        with self._folder() as root:
            for name in _KINDS:
                self._refuse_link(root, name, self.path / name)
            for name, (kind, is_kind) in _KINDS.items():
                mode = _mode(name, root)
                if mode is not None and not is_kind(mode):
                    raise RunFolderError(f"{self.path}: cannot use this folder: its {name} is not a {kind}")
        for sub in SUBFOLDERS:
            with contextlib.suppress(FileNotFoundError), self._folder(sub) as fd:
                for name in os.listdir(fd):
                    self._refuse_link(fd, name, self.path / sub / name)

    def _refuse_link(self, dir_fd: int, name: str, shown: Path) -> None:
        """`RunFolderError` naming `shown` if `name` in the folder open as `dir_fd` is a symbolic link."""
        mode = _mode(name, dir_fd)
        if mode is not None and stat.S_ISLNK(mode):
            raise RunFolderError(
                f"{shown}: a symbolic link (to {os.readlink(name, dir_fd=dir_fd)}); a run folder's files must be"
                " its own, since tilerunner writes nowhere outside it: remove the link"
            )

    def _remove_stale_temporaries(self) -> None:
        """Remove the temporary files of writes a killed process left (`.config.x1y2z3w4.tmp.ini`).

        Only the lock's holder writes here, so any such file is a leftover, never a write in progress.
        """
        for sub in ("", *SUBFOLDERS):
            with contextlib.suppress(FileNotFoundError), self._folder(sub) as fd:
                for name in os.listdir(fd):
                    mode = _mode(name, fd)
                    if _TEMPORARY.match(name) and mode is not None and stat.S_ISREG(mode):
                        with self._naming(sub, name):
                            os.unlink(name, dir_fd=fd)

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
        """If the block fails, `_abandon` the folder; a failed write becomes one `RunFolderError` naming the file
        (or the folder)."""
        try:
            yield
        except OSError as exc:
            self._abandon()
            what = f"cannot write {exc.filename}" if exc.filename else f"{self.path}: cannot write the run folder"
            raise RunFolderError(f"{what}: {exc.strerror or exc}") from None
        except BaseException:
            self._abandon()
            raise

    def _abandon(self) -> None:
        """Let the lock go; remove the folder if this process made it, no run has started in it and it is still
        where it was made."""
        made = self._made and not self.holds_a_run() and self._still_at_path()
        self.unlock()
        if made:
            shutil.rmtree(self.path, ignore_errors=True)

    def unlock(self) -> None:
        """Let other processes use the folder again."""
        for fd in self._lent:
            os.close(fd)
        self._lent.clear()
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor drops the lock
            self._lock = None

    # Checkpoints ----------------------------------------------------------------------------------------------

    def write_checkpoint(self, generation: int, blob: bytes) -> Path:
        """Write the checkpoint of `generation` (atomically), then drop all but the newest few."""
        name = f"gen-{generation:04d}{CHECKPOINT_SUFFIX}"
        self._write("checkpoints", name, blob)
        for old in _by_generation(self._names("checkpoints"), _CHECKPOINT)[:-CHECKPOINTS_KEPT]:
            self._remove("checkpoints", old)
        return self.checkpoints / name

    @staticmethod
    def checkpoint_generation(path: Path) -> int:
        """The generation a checkpoint file's name says it holds (`gen-0012.json.gz`: 12)."""
        return int(_CHECKPOINT.search(path.name).group(1))

    def checkpoint_files(self) -> list[Path]:
        """Checkpoint files, oldest generation first."""
        return [self.checkpoints / name for name in _by_generation(self._names("checkpoints"), _CHECKPOINT)]

    def latest_checkpoint(self) -> tuple[Path, bytes]:
        """The newest checkpoint file and its bytes, or `RunFolderError` saying why there is none."""
        if self._lock is None and not self.path.is_dir():
            raise RunFolderError(f"{self.path}: no such run folder")
        files = self.checkpoint_files()
        if not files:
            if self._has_pickles():
                raise RunFolderError(
                    f"{self.path}: its checkpoints are pickles from tilerunner 0.1, which this"
                    " version never loads (a pickle can run code); resume it with 0.1"
                )
            raise NoCheckpointError(
                "{path}: no checkpoint to resume from, so no run started here: start a new one there ({out} {path})",
                path=self.path,
            )
        newest = files[-1]
        return newest, self._read("checkpoints", newest.name, MAX_CHECKPOINT_BYTES, "checkpoint")


def _by_generation(names: list[str], pattern: re.Pattern[str]) -> list[str]:
    """The names `pattern` matches (its group 1 a generation), oldest generation first."""
    return sorted((n for n in names if pattern.search(n)), key=lambda n: int(pattern.search(n).group(1)))


def _mode(name: str, dir_fd: int) -> int | None:
    """The mode of `name` in the folder open as `dir_fd`, not following a link; None if there is none."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None


def _identity(fd: int) -> tuple[int, int]:
    """(device, inode) of an open file: which folder a descriptor holds, whatever its path."""
    info = os.fstat(fd)
    return info.st_dev, info.st_ino
