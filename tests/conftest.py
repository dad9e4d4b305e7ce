"""Test-wide settings: pygame draws off-screen, property tests are repeatable, Ctrl-C reaches the commands the
tests start, and Numba's cache can never serve stale kernels.

Numba's `cache=True` re-checks only a kernel's own file, so a kernel that inlines
code from another module keeps its old machine code after that module is edited.
The tests therefore cache into a folder named by a hash of all the project's
source, which changes whenever any of it does.
"""

import hashlib
import os
import pathlib
import signal
import subprocess
import sys
import tempfile

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run and every machine (`ci`, the default), and print the
# blob that replays a failure; HYPOTHESIS_PROFILE=explore draws new ones each run, to look for more bugs.
settings.register_profile("ci", derandomize=True, print_blob=True, database=None, deadline=None)
settings.register_profile("explore", print_blob=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# pytest started in the background by a script (`pytest &`) inherits SIGINT ignored, and so would every command
# the tests start, which then cannot hear the Ctrl-C the tests send. Take it back as a terminal delivers it
# (a handler, unlike an ignore, is not inherited across exec: the commands start with the default).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"

_root = pathlib.Path(__file__).resolve().parents[1]
_digest = hashlib.sha256()
for _package in ("agent", "envs", "evolve"):
    for _path in sorted((_root / _package).rglob("*.py")):
        _digest.update(_path.read_bytes())
os.environ.setdefault(
    "NUMBA_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"tilerunner-numba-{_digest.hexdigest()[:16]}")
)


def _listing(folder: pathlib.Path) -> list[tuple[str, int, int]]:
    return (
        sorted(
            (str(p.relative_to(_root)), p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        )
        if folder.exists()
        else []
    )


@pytest.fixture(scope="session", autouse=True)
def _the_tests_write_nothing_into_the_repository():
    """Whatever the tests run, the shipped replays and a runs/ folder in the checkout stay as they were."""
    watched = [_root / "replays", _root / "runs"]
    before = [_listing(folder) for folder in watched]
    yield
    assert [_listing(folder) for folder in watched] == before, "a test wrote into replays/ or runs/ of the repository"


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a tiny tmpfs that is full: every write into it fails with ENOSPC, as on a full disk.

    Needs the right to mount (root, as on CI); skipped where mounting is not allowed.
    """
    import shutil

    mount = tmp_path / "full"
    mount.mkdir()
    if (
        shutil.which("mount") is None
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k,nr_inodes=64", "tmpfs", str(mount)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:  # fill every block
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody may write in: chmod 555 for a user; for root (who writes through modes), a read-only tmpfs.

    Skipped only where root cannot mount.
    """
    import shutil

    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    if (
        shutil.which("mount") is None
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _tilerunner(
    *argv: object, cwd: os.PathLike | str | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tilerunner", *map(str, argv)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(os.environ, **(env or {})),
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def _tilerunner_started(
    *argv: object,
    cwd: os.PathLike | str | None = None,
    env: dict[str, str] | None = None,
    stdout: int | object = subprocess.PIPE,
    stderr: int | object = subprocess.PIPE,
    **popen: object,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tilerunner", *map(str, argv)],
        stdout=stdout,
        stderr=stderr,
        text=True,
        cwd=cwd,
        env=dict(os.environ, **(env or {})),
        stdin=subprocess.DEVNULL,
        **popen,
    )


@pytest.fixture
def tilerunner_process():
    """`tilerunner_process(*argv, cwd=None, env=None, timeout=300)`: `python -m tilerunner ARGV` in a fresh process,
    its output as text (`.returncode`, `.stdout`, `.stderr`); `env` adds to this process's variables, and stdin
    is empty, so nothing waits on a terminal."""
    return _tilerunner


@pytest.fixture
def tilerunner_started():
    """`tilerunner_started(*argv, cwd=None, env=None, stdout=PIPE, stderr=PIPE, **popen)`: `python -m tilerunner
    ARGV` started in the background (a text-mode `subprocess.Popen`, for tests that signal, kill or read it as it
    runs); `env` adds to this process's variables, stdin is empty, and `popen` goes to `Popen` as it is."""
    return _tilerunner_started
