"""Test-wide settings: pygame draws off-screen, and Numba's cache can never serve stale kernels.

Numba's `cache=True` re-checks only a kernel's own file, so a kernel that inlines
code from another module keeps its old machine code after that module is edited.
The tests therefore cache into a folder named by a hash of all the project's
source, which changes whenever any of it does.
"""

import hashlib
import os
import pathlib
import tempfile

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
