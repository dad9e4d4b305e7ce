"""Public names that were renamed: the old name keeps working for a while, and warns once where it is used.

Code written against an older tilerunner goes on running; a `DeprecationWarning` (shown by Python
in `__main__`, by pytest everywhere) names the new name and the release that drops the old one.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

REMOVED_IN = "0.4.0"
"""The release that drops the old names listed in the changelog's "Renamed" section."""


def warn_renamed(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn that `old` is now called `new` (a `DeprecationWarning` pointing at the caller's line)."""
    warnings.warn(
        f"{old} is now called {new}; the old name goes in tilerunner {REMOVED_IN}",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def renamed_method(owner: str, old: str, new: str) -> Callable[..., Any]:
    """A method `old` that warns, then calls the instance's method `new` (a subclass's override included).

    Assign it in the class body: `evaluate = renamed_method("Evolution", "evaluate", "play_generation")`.
    """

    def old_name(self: Any, *args: Any, **kwargs: Any) -> Any:
        warn_renamed(f"{owner}.{old}", f"{owner}.{new}")
        return getattr(self, new)(*args, **kwargs)

    old_name.__name__ = old
    old_name.__qualname__ = f"{owner}.{old}"
    old_name.__doc__ = f"Deprecated: the old name of `{new}`, dropped in {REMOVED_IN}."
    return old_name
