"""Write files so that they are never half-written: write a temporary file beside it, then rename."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator

# The characters of `tempfile`'s random names, so that both kinds of temporary look alike: .<stem>.<8 of them>.tmp<ext>
_NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path in the same folder as `path`; on success rename it onto `path`.

    If the block raises, the temporary file is removed and `path` is untouched, so a
    reader sees either the old file or the complete new one, never a partial one.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    stem, ext = os.path.splitext(base)
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".tmp{ext}", dir=folder)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give it the usual permissions
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _new_temporary_at(dir_fd: int, name: str) -> tuple[int, str]:
    """A new file beside `name` in the folder open as `dir_fd`, named as `atomic_path` names its temporaries:
    its descriptor (open for writing) and its name."""
    stem, ext = os.path.splitext(name)
    for _ in range(100):
        tmp = f".{stem}.{''.join(secrets.choice(_NAME_CHARACTERS) for _ in range(8))}.tmp{ext}"
        try:
            return os.open(tmp, _NEW_FILE, 0o666, dir_fd=dir_fd), tmp  # 0o666 less the umask, as open() gives
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused temporary name beside {name}")


def _write_at(dir_fd: int, name: str, raw: bytes) -> None:
    """`write_atomic` into the folder open as `dir_fd`: made, written and renamed there, never following a link."""
    if not name or os.sep in name or name in (".", ".."):
        raise ValueError(f"with dir_fd, write_atomic takes a file name, not a path: {name!r}")
    fd, tmp = _new_temporary_at(dir_fd, name)
    try:
        with open(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


def write_atomic(path: str | os.PathLike, data: str | bytes, dir_fd: int | None = None) -> None:
    """Write `data` (text as UTF-8) to `path` atomically, flushed to disk before the rename.

    With `dir_fd`, `path` is a file name in the folder open as `dir_fd` (as `os.open` takes it): the file
    lands in that very folder wherever it has been moved, whatever now has its old path.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if dir_fd is not None:
        _write_at(dir_fd, os.fspath(path), raw)
        return
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
