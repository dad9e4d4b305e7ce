"""Whether a checkpoint is of the run its folder describes, before anything of it is rebuilt.

A folder's checkpoints may have been swapped for another run's (same layout, other seed, other population, another
--levels-per-gen): resuming those would continue a different run under this folder's name, and args.json would say
what it does not play. So every setting fixed for a run's life (`run_options.fixed_args`) is compared as args.json
keeps it: those the checkpoint records under the same key (`Option.recorded`) as they are, the others where they
are kept (the levels' ids, the held-out levels', the config.ini digest, what config.ini sets). A field missing from
the checkpoint or from args.json is a refusal, never a check skipped.
"""

from __future__ import annotations

import json
from typing import Any

import neat

from tilerunner.evolve.core.level_plan import compact_ids
from tilerunner.evolve.runs.checkpoint import CheckpointError, config_digest
from tilerunner.evolve.runs.json_fields import FieldReader, shown
from tilerunner.evolve.runs.run_options import Option, fixed_args, option_fields

_read = FieldReader(CheckpointError)

# What a checkpoint of another run is refused for, by the setting it differs in ({played}: the checkpoint's, {kept}:
# args.json's); a setting not here is one the checkpoint records under its args.json key (`Option.recorded`).
_DIFFERS = {
    "levels": "it trains on other levels than this run's (args.json)",
    "seed": "a checkpoint of a run with seed {played}, but this run's seed is {kept} (args.json)",
    "config": "made with another neat config than this run folder's config.ini",
    "settings": "its episode settings differ from this run's (args.json)",
    "pop_size": "its population is {played} (config.ini), but this run's is {kept} (args.json pop_size)",
    "memory": "it evolves without memory cells (config.ini), but this run's args.json says memory",
    "batch_breeding": "it evolves without batch breeding (breeding = batch) (config.ini), but this run's args.json"
    " says batch_breeding",
    "validate": "it validates on other held-out levels than this run's (args.json validate)",
}


def check_belongs(data: dict[str, Any], args: dict[str, Any], config_text: str, config: neat.Config) -> None:
    """`CheckpointError` unless the checkpoint (`decode`d) is of the run its folder's args.json and config.ini
    (`config_text`, built as `config`) describe (see the module docstring)."""
    fixed = {about.kept_as or name: about for name, about in option_fields().items()}
    for key in fixed_args():
        if key not in args:
            raise CheckpointError(f"this run's args.json has no {key!r} to check the checkpoint against")
        problem = _differs(key, fixed.get(key), data, args[key], config_text, config)
        if problem:
            raise CheckpointError(f"{problem}; it is not this run's checkpoint")


def _differs(
    key: str, about: Option | None, data: dict, kept: Any, config_text: str, config: neat.Config
) -> str | None:
    """What differs between the checkpoint and args.json (`kept`) in `key`, a setting fixed for the run's life (the
    option `about`, None for the levels), or None. Each is compared as args.json keeps it, kind and all."""
    if key == "levels":  # the training set: level ids (or fresh difficulties), compacted as args.json keeps them
        if not (isinstance(kept, list) and all(isinstance(x, str) for x in kept)):
            raise CheckpointError("this run's args.json: levels is not a list of level ids")
        entries = _read.get(data, "levels", "list", "checkpoint")
        ids = [_read.get(e, "id", "str", f"checkpoint.levels[{n}]") for n, e in enumerate(entries)]
        fresh = _read.get(data, "fresh", "list", "checkpoint")
        played, kept = compact_ids(ids) if ids else [f"gen:*:{d}" for d in fresh], compact_ids(kept)
    elif key == "config":  # what matters is its text, config.ini, whose digest the checkpoint records (`kept`, the
        # path it was copied from, is only for people)
        played, kept = _read.get(data, "config_digest", "str", "checkpoint"), config_digest(config_text)
    elif key == "pop_size":  # config.ini's (the config digest ties the checkpoint to it), which args.json repeats
        played = config.pop_size
    elif key in ("memory", "batch_breeding"):  # switches that set something in config.ini: on in args.json, on there
        if not isinstance(kept, bool):
            raise CheckpointError(f"this run's args.json: {key} is {shown(kept)}, not true or false")
        gc = config.genome_config
        played = kept and bool(gc.memory_cells if key == "memory" else gc.breeding == "batch")
    elif key == "validate":  # the held-out levels' ids (none without --validate)
        raw = _read.get(data, "validation", "object|null", "checkpoint")
        entries = _read.get(raw, "levels", "list", "checkpoint.validation") if raw is not None else []
        played = [_read.get(e, "id", "str", f"checkpoint.validation.levels[{n}]") for n, e in enumerate(entries)]
        if raw is not None and not played:
            raise CheckpointError("checkpoint.validation.levels: empty")
    elif about is None or about.recorded is None:
        raise AssertionError(f"{key} is fixed for a run's life, but nothing checks a checkpoint against it")
    elif data["version"] < about.since:
        return None  # not recorded before that version
    else:
        played = _read.get(data, key, about.recorded, "checkpoint")
    if json.dumps(played, sort_keys=True) == json.dumps(kept, sort_keys=True):  # kind and all: `true` is not `1`
        return None
    message = _DIFFERS.get(key, "its {key} is {played}, but this run's is {kept} (args.json)")
    return message.format(key=key, played=shown(played), kept=shown(kept))
