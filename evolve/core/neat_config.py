"""Load neat-python INI configs for TileGenome, with overrides and one-line errors.

neat-python reports config problems in several ways (configparser errors, bare
RuntimeErrors, multi-line messages); `load_config` turns every one of them into a
`ConfigError` whose message is `file: problem`, naming the offending key where
neat-python does.

Some settings neat-python accepts but then fails on in the middle of a run (after the run
folder exists); these are refused here, before anything starts, naming the key:

    [NEAT] pop_size                       2 to 100,000 (`POP_SIZE_RANGE`; `--pop` uses it too)
    [NEAT] fitness_criterion              max, min or mean (unless no_fitness_termination)
    [TileGenome] num_inputs               1 to 100,000; num_outputs 1 to 1,000; num_hidden 0 to 10,000
    [TileGenome] initial_connection       one of neat-python's (`INITIAL_CONNECTIONS`), partial_* with 0 to 1
    [DefaultSpeciesSet] compatibility_threshold   above 0
    [DefaultStagnation] species_fitness_func      max, min, mean, median or median2
    [DefaultStagnation] max_stagnation >= 1, species_elitism >= 0
    [DefaultReproduction] elitism >= 0, min_species_size >= 1, both at most pop_size;
                          survival_threshold above 0 and at most 1
    any number                            not nan

Finally a few genomes are made, crossed, mutated and sorted into species as neat-python will
(`SPECIATION_SAMPLE` of them, with their own random state, so the run is unchanged): if every
one of them is a species of its own, generation 0 will be one species per genome, which the
population cannot hold when each species keeps at least max(min_species_size, elitism) >= 2
members (neat-python stops with "Configuration conflict"), so the config is refused. This is
what `num_hidden = 500` with a population of 50 does: neat-python numbers every new genome's
hidden nodes afresh, so no two new genomes share a hidden node or any connection to one, their
distance is close to 4 (all disjoint), beyond the default compatibility_threshold of 3, and
generation 0 has one species per genome.
"""

from __future__ import annotations

import configparser
import copy
import math
import os
import random
import tempfile
import unicodedata
from importlib import resources
from io import StringIO

import neat
from neat.innovation import InnovationTracker
from neat.math_util import stat_functions

from tilerunner.agent import TileGenome
from tilerunner.agent.genome import StockTileGenome
from tilerunner.envs.bounded_read import read_regular_file
from tilerunner.evolve.core.reproduction import BatchReproduction
from tilerunner.evolve.core.speciation import FastSpeciesSet

BUILTIN_CONFIGS = ("default", "recall")
POP_SIZE_RANGE = (2, 100_000)
MAX_CONFIG_BYTES = 1024 * 1024  # a neat config is a few KB
INITIAL_CONNECTIONS = tuple(neat.genome.DefaultGenomeConfig.allowed_connectivity)
SPECIATION_SAMPLE = 12  # genomes made to check that generation 0's species fit the population
_GENOME_SIZES = {"num_inputs": (1, 100_000), "num_outputs": (1, 1000), "num_hidden": (0, 10_000)}


class ConfigError(ValueError):
    """A neat config that cannot be used; the message is one line for the user."""


def builtin_config_path(name: str) -> str:
    """Path of a config shipped in evolve/configs/ (`default` or `recall`)."""
    return str(resources.files("tilerunner.evolve.core").joinpath("configs", f"{name}.ini"))


def config_text(path: str) -> str:
    """The text of a config file, or `ConfigError` if it cannot be read."""
    raw = read_regular_file(path, MAX_CONFIG_BYTES, ConfigError, "neat config file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read: not UTF-8 text (byte {exc.start})") from None


def apply_overrides(text: str, section: str, overrides: dict[str, object]) -> str:
    """Set `key = value` pairs in one section of INI text (keeping everything else as written)."""
    parser = configparser.ConfigParser()
    parser.read_string(text)
    if not parser.has_section(section):
        parser.add_section(section)
    for key, value in overrides.items():
        parser.set(section, key, str(value).lower() if isinstance(value, bool) else str(value))
    out = StringIO()
    parser.write(out)
    return out.getvalue()


def load_config(
    path: str | None = None,
    *,
    neat_overrides: dict[str, object] | None = None,
    genome_overrides: dict[str, object] | None = None,
    stock_neat: bool = False,
) -> neat.Config:
    """A neat.Config for TileGenome from `path` (default: the shipped default config).

    Overrides replace settings of the [NEAT] and [TileGenome] sections. Raises
    `ConfigError` with a one-line message for anything neat-python rejects. `stock_neat`:
    breed and speciate with neat-python's own generic code (see `use_neat_classes`).
    """
    return load_config_and_text(
        path, neat_overrides=neat_overrides, genome_overrides=genome_overrides, stock_neat=stock_neat
    )[0]


def load_config_and_text(
    path: str | None = None,
    *,
    neat_overrides: dict[str, object] | None = None,
    genome_overrides: dict[str, object] | None = None,
    stock_neat: bool = False,
) -> tuple[neat.Config, str]:
    """Like `load_config`, also returning the exact INI text the config was built from."""
    path = path or builtin_config_path("default")
    text = config_text(path)
    try:
        if neat_overrides:
            text = apply_overrides(text, "NEAT", neat_overrides)
        if genome_overrides:
            text = apply_overrides(text, "TileGenome", genome_overrides)
        return config_from_text(text, stock_neat=stock_neat), text
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except configparser.Error as exc:
        raise ConfigError(f"{path}: {_one_line(exc)}") from None


def config_from_text(text: str, *, stock_neat: bool = False) -> neat.Config:
    """Build a neat.Config from INI text; `ConfigError` (without a file name) if neat-python rejects it.

    The config breeds with `TileGenome` and speciates with `FastSpeciesSet` (bit-identical to
    neat-python's generic code, faster); `stock_neat` uses neat-python's own (`use_neat_classes`).
    """
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ConfigError(_one_line(exc)) from None
    for section in ("NEAT", "TileGenome", "DefaultSpeciesSet", "DefaultStagnation", "DefaultReproduction"):
        if not parser.has_section(section):
            raise ConfigError(f"missing section [{section}]")
    _check_neat_section(parser)
    _check_before_building(parser)
    fd, tmp = tempfile.mkstemp(suffix=".ini", prefix="tilerunner-neat-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        config = neat.Config(TileGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet, neat.DefaultStagnation, tmp)
    except Exception as exc:  # neat-python raises RuntimeError, NameError, ValueError, AssertionError ...
        raise ConfigError(_one_line(exc) or f"invalid config ({type(exc).__name__})") from None
    finally:
        os.remove(tmp)
    use_neat_classes(config, stock=stock_neat)
    check_config(config)
    return config


def use_neat_classes(config: neat.Config, *, stock: bool) -> None:
    """Breed and speciate with tilerunner's fast classes, or (`stock`) neat-python's own generic code.

    Both give the same populations and species, bit for bit, from the same seed (tests/test_fast_neat.py):
    fast is `TileGenome` (crossover and mutation in `tilerunner.agent.breeding`) and `FastSpeciesSet`
    (distances and assignment in Numba); stock is `StockTileGenome` (neat-python's `DefaultGenome` code)
    and `neat.DefaultSpeciesSet`. neat.Config reads each class's settings from the section named after it,
    so the config is built with the stock names ([TileGenome], [DefaultSpeciesSet]) and the classes are
    swapped here, after parsing. Set it before the population is made. Fast also reproduces with
    `BatchReproduction`, which is `neat.DefaultReproduction` unless the genome section says `breeding = batch`
    (then a generation breeds at once, equal in distribution, not bit for bit; stock ignores it).
    """
    config.genome_type = StockTileGenome if stock else TileGenome
    config.species_set_type = neat.DefaultSpeciesSet if stock else FastSpeciesSet
    config.reproduction_type = neat.DefaultReproduction if stock else BatchReproduction


def _check_before_building(parser: configparser.ConfigParser) -> None:
    # Sizes neat-python would allocate for while building the config (a list of every input key).
    for key, (lo, hi) in _GENOME_SIZES.items():
        raw = parser.get("TileGenome", key, fallback=None)
        try:
            value = int(raw) if raw is not None and len(raw.strip()) <= 30 else None
        except ValueError:
            continue  # neat-python names the key and the bad value
        if raw is not None and (value is None or not lo <= value <= hi):
            raise ConfigError(f"[TileGenome] {key} = {_shown(raw)}: must be a whole number from {lo:,} to {hi:,}")
    raw = parser.get("TileGenome", "initial_connection", fallback="unconnected")
    kind, *rest = raw.split() or [""]
    if kind not in INITIAL_CONNECTIONS or len(rest) > 1 or (rest and not kind.startswith("partial")):
        raise ConfigError(
            f"[TileGenome] initial_connection = {_shown(raw)}: expected one of"
            f" {', '.join(c for c in INITIAL_CONNECTIONS if not c.startswith('partial'))},"
            " or partial_direct / partial_nodirect / partial with a fraction (e.g. partial_direct 0.05)"
        )
    if kind.startswith("partial"):
        try:
            fraction = float(rest[0]) if rest else math.nan
        except ValueError:
            fraction = math.nan
        if not 0 <= fraction <= 1:
            raise ConfigError(
                f"[TileGenome] initial_connection = {_shown(raw)}: {kind} needs the fraction of"
                " connections to make, from 0 to 1 (e.g. partial_direct 0.05)"
            )


def check_config(config: neat.Config) -> None:
    """Refuse (`ConfigError`, one line naming the key) settings neat-python accepts but fails on mid-run."""
    pop = config.pop_size
    if not POP_SIZE_RANGE[0] <= pop <= POP_SIZE_RANGE[1]:
        raise ConfigError(f"[NEAT] pop_size = {pop}: must be from {POP_SIZE_RANGE[0]:,} to {POP_SIZE_RANGE[1]:,}")
    if not config.no_fitness_termination and config.fitness_criterion not in ("max", "min", "mean"):
        raise ConfigError(f"[NEAT] fitness_criterion = {_shown(config.fitness_criterion)}: expected max, min or mean")
    for section, values in [
        ("NEAT", vars(config)),
        ("TileGenome", vars(config.genome_config)),
        ("DefaultSpeciesSet", vars(config.species_set_config)),
        ("DefaultStagnation", vars(config.stagnation_config)),
        ("DefaultReproduction", vars(config.reproduction_config)),
    ]:
        for key, value in values.items():
            if isinstance(value, float) and math.isnan(value):
                raise ConfigError(f"[{section}] {key} = nan: expected a number")
    threshold = config.species_set_config.compatibility_threshold
    if not threshold > 0:
        raise ConfigError(
            f"[DefaultSpeciesSet] compatibility_threshold = {threshold:g}: must be above 0"
            " (genomes closer than this share a species)"
        )
    stagnation = config.stagnation_config
    if stagnation.species_fitness_func not in stat_functions:
        raise ConfigError(
            f"[DefaultStagnation] species_fitness_func = {_shown(stagnation.species_fitness_func)}:"
            f" expected one of {', '.join(stat_functions)}"
        )
    if stagnation.max_stagnation < 1:
        raise ConfigError(f"[DefaultStagnation] max_stagnation = {stagnation.max_stagnation}: must be at least 1")
    if stagnation.species_elitism < 0:
        raise ConfigError(f"[DefaultStagnation] species_elitism = {stagnation.species_elitism}: must be at least 0")
    repro = config.reproduction_config
    if repro.elitism < 0:
        raise ConfigError(f"[DefaultReproduction] elitism = {repro.elitism}: must be at least 0")
    if repro.min_species_size < 1:
        raise ConfigError(f"[DefaultReproduction] min_species_size = {repro.min_species_size}: must be at least 1")
    for key in ("elitism", "min_species_size"):
        if getattr(repro, key) > pop:
            raise ConfigError(
                f"[DefaultReproduction] {key} = {getattr(repro, key)}: more than pop_size = {pop};"
                " every species keeps at least this many genomes, so not even one species fits"
            )
    if not 0 < repro.survival_threshold <= 1:
        raise ConfigError(
            f"[DefaultReproduction] survival_threshold = {repro.survival_threshold:g}:"
            " must be above 0 and at most 1 (the fraction of a species that may breed)"
        )
    _check_speciation(config)


def _check_speciation(config: neat.Config) -> None:
    """Refuse a config whose generation 0 would split into more species than the population can hold."""
    gc = config.genome_config
    n = min(config.pop_size, SPECIATION_SAMPLE)
    threshold = config.species_set_config.compatibility_threshold
    least = max(config.reproduction_config.min_species_size, config.reproduction_config.elitism)
    saved_random, saved = random.getstate(), (gc.node_indexer, gc.innovation_tracker)
    try:
        random.seed(0)
        gc.node_indexer, gc.innovation_tracker = None, InnovationTracker()
        genomes = []
        for key in range(n):
            genome = config.genome_type(key)
            genome.configure_new(gc)
            genomes.append(genome)
        for fitness, genome in enumerate(genomes):
            genome.fitness = float(fitness)
        child = config.genome_type(n)  # breeding as neat-python will, so gene settings it trips on show here
        child.configure_crossover(genomes[0], genomes[-1], gc)
        for _ in range(3):
            copy.deepcopy(child).mutate(gc)
            child.mutate(gc)
        representatives: list = []
        distances = []
        for genome in genomes:
            near = [genome.distance(rep, gc) for rep in representatives]
            distances += near
            if not any(d < threshold for d in near):
                representatives.append(genome)
    except Exception as exc:  # a gene setting neat-python accepted but cannot use
        raise ConfigError(_one_line(exc) or f"invalid config ({type(exc).__name__})") from None
    finally:
        random.setstate(saved_random)
        gc.node_indexer, gc.innovation_tracker = saved
    if len(representatives) < n or least < 2:  # some share a species: the population can hold them
        return
    apart = f"{min(distances):.2f}" if distances else "far"
    need = (
        f"every genome of generation 0 would be a species of its own (all {n} tried were), and at {least} or"
        f" more genomes per species (min_species_size, elitism) pop_size = {config.pop_size} cannot hold"
        f" {config.pop_size} species (neat-python stops: 'Configuration conflict')"
    )
    if gc.num_hidden > 0:
        raise ConfigError(
            f"[TileGenome] num_hidden = {gc.num_hidden}: new genomes share no hidden node (neat-python"
            f" numbers each genome's anew), so they are at least {apart} apart, beyond"
            f" compatibility_threshold = {threshold:g}: {need}; lower num_hidden, or raise"
            f" compatibility_threshold above {apart}"
        )
    raise ConfigError(
        f"[DefaultSpeciesSet] compatibility_threshold = {threshold:g}: new genomes are at least {apart}"
        f" apart, so {need}; raise compatibility_threshold above {apart}"
    )


def _shown(text: str) -> str:
    """Text from a config file for a message: quoted, escaped, short."""
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def _check_neat_section(parser: configparser.ConfigParser) -> None:
    # neat-python parses [NEAT] with bare int()/float() calls whose errors do not name the key.
    for param in neat.Config._Config__params:  # its list of [NEAT] items
        raw = parser.get("NEAT", param.name, fallback=None)
        if raw is None:
            continue
        try:
            param.parse("NEAT", parser)
        except ValueError:
            raise ConfigError(f"[NEAT] {param.name} = {raw!r}: expected {param.value_type.__name__}") from None


def _one_line(exc: BaseException) -> str:
    """An exception's message as one line, with control characters from the file escaped."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = "; ".join(lines)
    text = text.replace("Unknown configuration items:; ", "unknown configuration items: ")
    return "".join(ascii(ch)[1:-1] if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text)
