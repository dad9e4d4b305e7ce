"""Atomic writes: a reader sees the old file or the whole new one, never part; a failed write leaves no trace.

`envs/atomic.py` writes a temporary file beside the target and renames it; every file of a run
folder is written that way, which the last test checks by watching a real run write its folder.
"""

from __future__ import annotations

import builtins
import gzip
import json
import os
import stat
from pathlib import Path

import pytest

from tilerunner.envs import atomic
from tilerunner.envs.atomic import atomic_path, write_atomic

OLD = b"the old content, complete\n" * 100
NEW = b"the new content, also complete\n" * 400


def chunked_write(path: str, data: bytes, midway) -> None:
    """Write `data` to `path` in two halves, calling `midway()` between them (when a reader might look)."""
    with open(path, "wb") as fh:
        fh.write(data[: len(data) // 2])
        fh.flush()
        midway()
        fh.write(data[len(data) // 2 :])


def test_write_atomic_writes_text_and_bytes_with_the_usual_permissions(tmp_path):
    write_atomic(tmp_path / "a.txt", "héllo\n")
    write_atomic(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.txt").read_bytes() == "héllo\n".encode() and (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o666 & ~mask  # not mkstemp's 0600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]  # no temporary left


def test_a_reader_sees_the_old_file_until_the_new_one_is_complete(tmp_path):
    target = tmp_path / "file.dat"
    target.write_bytes(OLD)
    seen = []
    with atomic_path(target) as tmp:
        assert Path(tmp).parent == tmp_path and Path(tmp).name != target.name  # beside it, under another name
        chunked_write(tmp, NEW, lambda: seen.append(target.read_bytes()))
        seen.append(target.read_bytes())  # written in full, not yet renamed
    assert seen == [OLD, OLD]
    assert target.read_bytes() == NEW
    assert [p.name for p in tmp_path.iterdir()] == ["file.dat"]


def test_writing_in_place_would_be_caught(tmp_path):
    """The check above can fail: a writer that writes the target itself shows a reader half a file."""
    target = tmp_path / "file.dat"
    target.write_bytes(OLD)
    seen = []
    chunked_write(str(target), NEW, lambda: seen.append(target.read_bytes()))
    assert seen[0] not in (OLD, NEW) and NEW.startswith(seen[0])


def test_the_rename_is_the_only_moment_the_target_changes(tmp_path, monkeypatch):
    target = tmp_path / "file.dat"
    target.write_bytes(OLD)
    renames = []
    real_replace = os.replace

    def replace(src, dst):
        # At the rename: the temporary holds all of the new content (flushed), the target all of the old.
        renames.append((Path(src).read_bytes() == NEW, Path(dst).read_bytes() == OLD, Path(dst) == target))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    write_atomic(target, NEW)
    assert renames == [(True, True, True)] and target.read_bytes() == NEW


class WriterFailure(Exception):
    """Raised by a writer halfway through its file."""


def failing_midway():
    raise WriterFailure("the disk filled up halfway")


def test_a_write_that_fails_midway_removes_the_temporary_and_keeps_the_target(tmp_path):
    target = tmp_path / "file.dat"
    target.write_bytes(OLD)
    temporaries = []
    with pytest.raises(WriterFailure):
        with atomic_path(target) as tmp:
            temporaries.append(tmp)
            chunked_write(tmp, NEW, failing_midway)
    assert target.read_bytes() == OLD
    assert not os.path.exists(temporaries[0])
    assert [p.name for p in tmp_path.iterdir()] == ["file.dat"]


def test_a_failed_write_of_a_new_file_leaves_nothing(tmp_path):
    with pytest.raises(WriterFailure):
        with atomic_path(tmp_path / "new.dat") as tmp:
            chunked_write(tmp, NEW, failing_midway)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("broken", ["fsync", "replace"])
def test_write_atomic_failing_at_the_disk_or_the_rename_keeps_the_target(tmp_path, monkeypatch, broken):
    target = tmp_path / "file.dat"
    target.write_bytes(OLD)

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, broken, fail)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, NEW)
    assert target.read_bytes() == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["file.dat"]


def test_ctrl_c_during_a_write_keeps_the_target(tmp_path):
    target = tmp_path / "file.dat"
    target.write_bytes(OLD)

    def interrupt():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            chunked_write(tmp, NEW, interrupt)
    assert target.read_bytes() == OLD and [p.name for p in tmp_path.iterdir()] == ["file.dat"]


def test_write_atomic_into_an_open_folder_follows_the_folder_not_its_old_path(tmp_path):
    folder, moved, victim = tmp_path / "run", tmp_path / "run-moved", tmp_path / "victim.txt"
    folder.mkdir()
    victim.write_bytes(OLD)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        write_atomic("a.dat", OLD, dir_fd=fd)
        folder.rename(moved)
        folder.mkdir()  # something else under the old name
        (moved / "link.dat").symlink_to(victim)
        write_atomic("a.dat", NEW, dir_fd=fd)
        write_atomic("link.dat", NEW, dir_fd=fd)  # the link is replaced, never followed
        with pytest.raises(ValueError, match="a file name, not a path"):
            write_atomic("sub/b.dat", NEW, dir_fd=fd)
    finally:
        os.close(fd)
    assert (moved / "a.dat").read_bytes() == NEW and not (moved / "link.dat").is_symlink()
    assert (moved / "link.dat").read_bytes() == NEW and victim.read_bytes() == OLD
    assert sorted(p.name for p in moved.iterdir()) == ["a.dat", "link.dat"] and list(folder.iterdir()) == []
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((moved / "a.dat").stat().st_mode) == 0o666 & ~mask


def is_complete(path: Path, name: str) -> bool:
    """Whether the file at `path` holds a whole document of the kind `name` says (JSON, JSON lines, gzip, INI)."""
    data = path.read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)  # a cut gzip stream fails here
        name = name[:-3]
    if name.endswith(".jsonl"):
        return data.endswith(b"\n") and all(json.loads(line) is not None for line in data.splitlines())
    if name.endswith(".json"):
        json.loads(data)
        return True
    if name.endswith(".ini"):
        return data.endswith(b"\n")
    return len(data) > 0


def test_a_run_writes_every_file_of_its_folder_by_renaming_a_complete_temporary(tmp_path, monkeypatch):
    from tilerunner.evolve.runs import run_folder
    from tilerunner.evolve.runs.run import Run

    folder = (tmp_path / "run").resolve()
    replays = (tmp_path / "replays").resolve()
    opened_for_writing: list[Path] = []
    renamed: dict[Path, bool] = {}
    real_open, real_os_open, real_replace = builtins.open, os.open, os.replace

    def at(path, dir_fd: int | None = None) -> Path | None:
        """The full path of `path`, or of the name `path` in the folder open as `dir_fd` (Linux names it in /proc)."""
        try:
            p = Path(os.fspath(path))
        except TypeError:  # a file descriptor
            return None
        return (Path(os.readlink(f"/proc/self/fd/{dir_fd}")) / p if dir_fd is not None else p).resolve()

    def inside(path, dir_fd: int | None = None) -> Path | None:
        p = at(path, dir_fd)
        return p if p is not None and (folder in p.parents or replays in p.parents) else None

    def watched_open(file, mode="r", *args, **kwargs):
        if any(ch in mode for ch in "wax+") and inside(file):
            opened_for_writing.append(inside(file))
        return real_open(file, mode, *args, **kwargs)

    def watched_os_open(path, flags, *args, dir_fd=None, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR) and inside(path, dir_fd):
            opened_for_writing.append(inside(path, dir_fd))
        return real_os_open(path, flags, *args, dir_fd=dir_fd, **kwargs)

    def watched_replace(src, dst, *, src_dir_fd=None, dst_dir_fd=None):
        target = inside(dst, dst_dir_fd)
        if target:
            src_path = at(src, src_dir_fd)
            assert src_path.parent == target.parent  # renamed within its folder: atomic
            renamed[target] = is_complete(src_path, target.name)  # complete before anyone can see it
        return real_replace(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)

    monkeypatch.setattr(builtins, "open", watched_open)
    monkeypatch.setattr(os, "open", watched_os_open)
    monkeypatch.setattr(os, "replace", watched_replace)
    # 1-1 from seed 0 is finished in generation 2: champions, a first finish and its copy are written too.
    Run.create(
        ["1-1"], generations=4, pop=100, seed=0, keep_going=True, checkpoint_every=1, out=folder, replays_dir=replays
    ).run()
    monkeypatch.undo()

    lock = folder / getattr(run_folder, "LOCK_FILE", ".lock")  # the run's lock: held open, it holds no data
    written = {p.resolve() for root in (folder, replays) for p in root.rglob("*") if p.is_file()} - {lock}
    assert {p.relative_to(folder).parts[0] for p in written if folder in p.parents} >= {
        "config.ini",
        "args.json",
        "stats.jsonl",
        "timing.jsonl",
        "champions",
        "checkpoints",
        "first-finishes",
    }
    assert any(replays in p.parents for p in written)
    # Every file there now was put in place by a rename of a complete temporary, ...
    assert written <= set(renamed), sorted(str(p) for p in written - set(renamed))
    assert all(renamed.values()), [str(p) for p, ok in renamed.items() if not ok]
    # ... nothing was ever opened for writing under its own name, and no temporary is left.
    opened_for_writing = [p for p in opened_for_writing if p != lock]
    assert not set(opened_for_writing) & (written | set(renamed))
    assert all(p.name.startswith(".") and ".tmp" in p.name for p in opened_for_writing)
    assert not [p for p in written if ".tmp" in p.name]
