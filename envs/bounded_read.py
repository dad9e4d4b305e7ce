"""Read a file a path names, safely: only a regular file, and only up to a size limit.

Paths come from users and from other files (a replay names its run folder), so they may name
/dev/zero, /dev/stdin, a FIFO or a huge file. `read_regular_file` refuses those without reading
them (the open does not wait for a FIFO's writer) and never reads past the limit, raising the
caller's own error class with one line. Levels, neat configs and every JSON file go through it.
"""

from __future__ import annotations

import os
import stat


def read_regular_file(
    path: str | os.PathLike,
    limit: int,
    error: type[Exception],
    what: str = "file",
    follow_links: bool = True,
    dir_fd: int | None = None,
) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them; else `error` in one line saying why.

    With `follow_links=False` a symbolic link is refused rather than read (a run folder's own files).
    With `dir_fd`, the file read is `path`'s last part in the folder open as `dir_fd`, wherever that folder
    is now; `path` names it in messages.
    """
    name = os.fspath(path)
    opened = name if dir_fd is None else os.path.basename(name)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(opened, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise error(f"{name}: no such {what}") from None
    except IsADirectoryError:
        raise error(f"{name}: is a folder, not a {what}") from None
    except OSError as exc:
        if not follow_links and _is_link(opened, dir_fd):
            raise error(f"{name}: a symbolic link, which tilerunner does not follow here") from None
        raise error(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{name}: is a folder, not a {what}")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{name}: not a regular file (a device, pipe or terminal), so not a {what}")
        if info.st_size > limit:
            raise error(f"{name}: too big for a {what} ({info.st_size:,} bytes; at most {limit:,})")
        chunks, size = [], 0
        while size <= limit:  # a file may grow while it is read: never take more than the limit
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise error(f"{name}: too big for a {what} (more than {limit:,} bytes)")
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"{name}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _is_link(path: str, dir_fd: int | None) -> bool:
    """Whether `path` (in the folder open as `dir_fd`, if given) is a symbolic link."""
    try:
        return stat.S_ISLNK(os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False
