"""The flags of a run's options, made from `RunOptions`' fields and the episode settings, in --help's groups.

`tilerunner evolve` and `tilerunner bench generalize` take the same flag for the same option, with the same
name, metavar, range and words, because both are made here from one declaration: a `RunOptions` field
(`run_options.Option`) or an episode setting (`EPISODE_FLAGS`, its range `EpisodeSettings.LIMITS`). A command
may give an option another default; its shape stays. Every help reads "what it does; range (default ...)".
"""

from __future__ import annotations

import argparse
from typing import Any

from tilerunner.evolve.flags.types import (
    DEFAULT_JUMP_RULE,
    OBSERVE_HELP,
    add_jump_rule_flag,
    features_type,
    float_in,
    int_in,
    setting_type,
    span,
)
from tilerunner.evolve.runs.run_options import option_fields, option_help

# --help's groups, in the order shown: title -> what its flags are about.
GROUPS = {
    "levels": "what is played, and what is held out",
    "population": "the first population and how it breeds",
    "episode": "the rules of an episode and its fitness terms",
    "senses": "what a network sees",
    "search": "how long evolution goes on, and how it keeps champions honest",
    "output": "the run folder and what is shown",
    "backend": "where generations are played",
}

# The episode settings' flags: setting -> (group, words). Numbers take the range `EpisodeSettings.LIMITS` gives.
EPISODE_FLAGS = {
    "frame_skip": ("episode", "frames per decision, as MarI/O"),
    "view_radius": ("senses", "tiles seen on each side of the player (6: 13x13)"),
    "max_frames": ("episode", "episode frame limit, 0 for none"),
    "stall_frames": ("episode", "end an episode after this many frames without progress"),
    "threshold": ("episode", "an output above this presses its button"),
    "time_penalty": ("episode", "fitness lost per frame, as MarI/O"),
    "finish_bonus": ("episode", "fitness for reaching the exit, as MarI/O"),
    "death_penalty": ("episode", "fitness lost by dying"),
    "coin_bonus": ("episode", "fitness per coin"),
    "kill_bonus": ("episode", "fitness per stomped enemy"),
    "jump_penalty": ("episode", "fitness lost per jump: makes jumping a choice rather than a habit"),
    "novelty": ("episode", "fitness per unit of behavioural novelty: how unlike its generation a genome played"),
    "aggregate": ("episode", "how fitness over levels is combined"),
    "relative_to": (
        "episode",
        "score each level against the hold-right controller's on it, -1000 to +1000, so that easy levels do"
        " not drown hard ones",
    ),
    "jump_rule": ("episode", "the world's jump rule (`add_jump_rule_flag` says what each is)"),
    "features": ("senses", OBSERVE_HELP),
}
_FLAG_OF_SETTING = {"features": "--observe"}
_EPISODE_METAVARS = {"threshold": "X", "features": "FEATURE[,FEATURE]"}


def flag_of(name: str) -> str:
    """The flag of a run option, an episode setting or `levels`: `--levels-per-gen`, `--replays`, `--observe`."""
    about = option_fields().get(name)
    if about is not None and about.flag:
        return about.flag
    return _FLAG_OF_SETTING.get(name) or "--" + ("level" if name == "levels" else name).replace("_", "-")


def groups(parser: argparse.ArgumentParser) -> dict[str, argparse._ArgumentGroup]:
    """An argument group of `parser` for each of `GROUPS`, in their order."""
    return {title: parser.add_argument_group(f"{title} ({about})") for title, about in GROUPS.items()}


def add_option_flags(
    where: dict[str, argparse._ArgumentGroup], names: list[str], defaults: dict[str, Any] | None = None, **words: str
) -> None:
    """Add the flag of each run option in `names` to its group of `where`, with the field's default or
    `defaults`' (then stored in the namespace); `words` replaces an option's help where a command means it
    differently (a budget per seed, say). Its destination is the field's name."""
    defaults = defaults or {}
    for name in names:
        about = option_fields()[name]
        kwargs: dict[str, Any] = {"dest": name, "default": defaults.get(name)}
        shown = _default_text(defaults[name]) if name in defaults else about.default_text
        if about.kind == "switch":
            kwargs["action"] = "store_true"
            kwargs["default"] = defaults.get(name, False)
        elif about.kind == "levels":
            kwargs.update(action="append", metavar=about.metavar)
        elif about.kind == "choice":
            kwargs.update(choices=about.choices, metavar="|".join(about.choices))
        elif about.kind in ("whole", "number"):
            lo, hi = about.range
            kwargs.update(type=int_in(lo, hi) if about.kind == "whole" else float_in(lo, hi), metavar=about.metavar)
            if about.const is not None:
                kwargs.update(nargs="?", const=about.const)
        else:
            kwargs["metavar"] = about.metavar
        if shown is None and about.kind not in ("switch",):
            from tilerunner.evolve.runs.run_options import RunOptions

            shown = _default_text(RunOptions.__dataclass_fields__[name].default)
        text = words.get(name) or option_help(name, flag_of)
        where[about.group].add_argument(flag_of(name), help=_help(text, about.range, about.const, shown), **kwargs)


def add_episode_flags(
    where: dict[str, argparse._ArgumentGroup],
    names: list[str],
    defaults: dict[str, Any] | None = None,
    jump_rule_text: str = DEFAULT_JUMP_RULE,
) -> None:
    """Add the flag of each episode setting in `names` (`EPISODE_FLAGS`) to its group of `where`; its default is
    None (the settings' own, shown in --help) unless `defaults` gives one; `jump_rule_text` says what the jump
    rule's is. Destinations: the settings' names, but `observe` for the features."""
    from tilerunner.evolve.core.fitness import AGGREGATES, RELATIVE_TO, EpisodeSettings

    defaults = defaults or {}
    plain = EpisodeSettings()
    choices = {"aggregate": AGGREGATES, "relative_to": RELATIVE_TO}
    for name in names:
        group, text = EPISODE_FLAGS[name]
        kwargs: dict[str, Any] = {"default": defaults.get(name)}
        shown = _default_text(defaults.get(name, getattr(plain, name)))
        limits = EpisodeSettings.LIMITS.get(name)
        if name == "jump_rule":
            add_jump_rule_flag(where[group], default=defaults.get(name), default_text=jump_rule_text)
            continue
        if name == "features":
            kwargs.update(dest="observe", type=features_type, metavar=_EPISODE_METAVARS[name])
            shown = None  # OBSERVE_HELP says it
        elif name in choices:
            kwargs.update(choices=choices[name], metavar="|".join(choices[name]))
        else:
            metavar = "N" if name in EpisodeSettings.WHOLE else _EPISODE_METAVARS.get(name, "FITNESS")
            kwargs.update(type=setting_type(name), metavar=metavar)
        where[group].add_argument(flag_of(name), help=_help(text, limits, None, shown), **kwargs)


def _help(text: str, limits: tuple | None, const: float | None, default: str | None) -> str:
    """`text; 1 to 1,000 (default 10)`, `text; 0.001 to 1 (default off; SHARE 0.1 when given bare)`."""
    out = text + (f"; {span(*limits)}" if limits else "")
    notes = [f"default {default}"] if default is not None else []
    if const is not None:
        notes.append(f"{_default_text(const)} when given bare")
    return out + (f" ({'; '.join(notes)})" if notes else "")


def _default_text(value: Any) -> str:
    """A default as --help shows it: `10`, `0.5`, `300`, `none`."""
    if value is None or value == ():
        return "none"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def given_options(args: argparse.Namespace, names: list[str]) -> dict[str, Any]:
    """The run options among `names` given on the command line (a switch that is on, a value that is not None)."""
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None and getattr(args, n) is not False}


def episode_settings(args: argparse.Namespace, default_jump_rule: str = DEFAULT_JUMP_RULE):
    """The `EpisodeSettings` the episode flags of `args` give (each one absent keeps its default)."""
    from tilerunner.evolve.core.fitness import EpisodeSettings

    given = {n: getattr(args, n) for n in EPISODE_FLAGS if n != "features" and getattr(args, n, None) is not None}
    given.setdefault("jump_rule", default_jump_rule)
    return EpisodeSettings(**given, features=getattr(args, "observe", None) or ())
