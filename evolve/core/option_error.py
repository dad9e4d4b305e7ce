"""`OptionError`: options that cannot work together, in a message that names them as the caller knows them.

The library names its parameters (`recheck`), a command its flags (`--recheck`); the message is written once,
with each option's name as a `{placeholder}`, and spelt for whichever reads it:

    raise OptionError("{recheck} 5: the set has 4 levels and {levels_per_gen} draws 2")
    str(error)                                    # recheck 5: the set has 4 levels and levels_per_gen draws 2
    error.spelled(lambda n: "--" + n.replace("_", "-"))   # --recheck 5: ... and --levels-per-gen draws 2
"""

from __future__ import annotations

import string
from collections.abc import Callable


class OptionError(ValueError):
    """A value of one option that does not fit (with others); `str()` names parameters, `spelled` anything else."""

    def __init__(self, template: str) -> None:
        self.template = template
        super().__init__(self.spelled(str))

    def spelled(self, spell: Callable[[str], str]) -> str:
        """The message with every option named as `spell(parameter name)` (a flag, say)."""
        names = {name for _, name, _, _ in string.Formatter().parse(self.template) if name}
        return self.template.format(**{name: spell(name) for name in names})
