"""`import tilerunner` registers `tilerunner/TileRunner-v0` with gymnasium without importing gymnasium itself.

gymnasium (and numpy under it) takes most of the time `import tilerunner` took, and the `tilerunner`
command imports this package before anything of its own can catch a Ctrl-C. So the id is registered at
once where gymnasium is already loaded, and otherwise the moment gymnasium is imported: a one-time
import hook runs `tilerunner.envs` (which registers the id) right after gymnasium's own module has run.
`import gymnasium, tilerunner` and `import tilerunner, gymnasium` both leave the id registered.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any


def register_with_gymnasium() -> None:
    """Register the env id now if gymnasium is loaded, else as soon as it is (the hook is installed once)."""
    if "gymnasium" in sys.modules:
        import tilerunner.envs  # noqa: F401  (registers tilerunner/TileRunner-v0)
    elif not any(isinstance(finder, _WhenGymnasiumLoads) for finder in sys.meta_path):
        sys.meta_path.insert(0, _WhenGymnasiumLoads())


class _WhenGymnasiumLoads(importlib.abc.MetaPathFinder):
    """Finds gymnasium as the other finders do, with a loader that registers the id once gymnasium has run."""

    def find_spec(self, fullname: str, path: Any = None, target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname != "gymnasium":
            return None
        sys.meta_path.remove(self)  # once: every later import finds gymnasium as usual
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenRegister(spec.loader)
        return spec


class _ThenRegister(importlib.abc.Loader):
    """gymnasium's own loader (everything else is delegated to it), then `tilerunner.envs` to register the id."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        import tilerunner.envs  # noqa: F401  (registers tilerunner/TileRunner-v0)

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, get_source, is_package ...
        return getattr(self._loader, name)
