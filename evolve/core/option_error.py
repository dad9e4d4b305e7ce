"""`OptionError`: an option's value that cannot work (alone or with others), in a message naming options as the caller
knows them.

The library names its parameters (`recheck`), a command its flags (`--recheck`); the message is written once,
with each option's name as a `{placeholder}`, and spelt for whichever reads it. Anything else the message shows
(a value the user gave, another error's text) comes as a keyword, so that braces in it are never read as names:

    raise OptionError("{recheck} 5: the set has 4 levels and {levels_per_gen} draws 2")
    str(error)          # recheck 5: the set has 4 levels and levels_per_gen draws 2
    error.as_flags()    # --recheck 5: the set has 4 levels and --levels-per-gen draws 2
    raise OptionError("{address} {given!r}: expected HOST:PORT", given=address)

A parameter whose flag is spelt otherwise (`features` is `--observe`) is in `FLAGS`.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable
from typing import Any

FLAGS = {"features": "--observe"}  # parameters whose flag is not "--" + the name with "-" for "_"


def flag(parameter: str) -> str:
    """The command line's flag for a library parameter: `levels_per_gen` is `--levels-per-gen`."""
    return FLAGS.get(parameter) or "--" + parameter.replace("_", "-")


class OptionError(ValueError):
    """A value of one option that does not fit (with others); `str()` names parameters, `as_flags` flags."""

    def __init__(self, template: str, **values: Any) -> None:
        self.template = template
        self.values = values
        super().__init__(self.spelled(str))

    def spelled(self, spell: Callable[[str], str]) -> str:
        """The message with every option named as `spell(parameter name)` (a flag, say)."""
        names = {name for _, name, _, _ in string.Formatter().parse(self.template) if name} - set(self.values)
        return self.template.format(**self.values, **{name: spell(name) for name in names})

    def as_flags(self) -> str:
        """The message as a command says it: every option named by its flag (`flag`)."""
        return self.spelled(flag)

    def __reduce__(self) -> tuple[Any, ...]:  # pickled (sent between processes) with its template, not its text
        return functools.partial(type(self), self.template, **self.values), ()
