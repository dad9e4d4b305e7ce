"""Load neat-python INI configs for TileGenome, with overrides and one-line errors.

neat-python reports config problems in several ways (configparser errors, bare
RuntimeErrors, multi-line messages); `load_config` turns every one of them into a
`ConfigError` whose message is `file: problem`, naming the offending key where
neat-python does.
"""

from __future__ import annotations

import configparser
import os
import tempfile
from importlib import resources

import neat

from tilerunner.agent import TileGenome

BUILTIN_CONFIGS = ("default", "recall")


class ConfigError(ValueError):
    """A neat config that cannot be used; the message is one line for the user."""


def builtin_config_path(name: str) -> str:
    """Path of a config shipped in evolve/configs/ (`default` or `recall`)."""
    return str(resources.files("tilerunner.evolve.core").joinpath("configs", f"{name}.ini"))


def config_text(path: str) -> str:
    """The text of a config file, or `ConfigError` if it cannot be read."""
    if os.path.isdir(path):
        raise ConfigError(f"{path}: is a folder, not a neat config file")
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such neat config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None


def apply_overrides(text: str, section: str, overrides: dict[str, object]) -> str:
    """Set `key = value` pairs in one section of INI text (keeping everything else as written)."""
    parser = configparser.ConfigParser()
    parser.read_string(text)
    if not parser.has_section(section):
        parser.add_section(section)
    for key, value in overrides.items():
        parser.set(section, key, str(value).lower() if isinstance(value, bool) else str(value))
    from io import StringIO

    out = StringIO()
    parser.write(out)
    return out.getvalue()


def load_config(path: str | None = None, *, neat_overrides: dict[str, object] | None = None,
                genome_overrides: dict[str, object] | None = None) -> neat.Config:
    """A neat.Config for TileGenome from `path` (default: the shipped default config).

    Overrides replace settings of the [NEAT] and [TileGenome] sections. Raises
    `ConfigError` with a one-line message for anything neat-python rejects.
    """
    return load_config_and_text(path, neat_overrides=neat_overrides, genome_overrides=genome_overrides)[0]


def load_config_and_text(path: str | None = None, *, neat_overrides: dict[str, object] | None = None,
                         genome_overrides: dict[str, object] | None = None) -> tuple[neat.Config, str]:
    """Like `load_config`, also returning the exact INI text the config was built from."""
    path = path or builtin_config_path("default")
    text = config_text(path)
    try:
        if neat_overrides:
            text = apply_overrides(text, "NEAT", neat_overrides)
        if genome_overrides:
            text = apply_overrides(text, "TileGenome", genome_overrides)
        return config_from_text(text), text
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except configparser.Error as exc:
        raise ConfigError(f"{path}: {_one_line(exc)}") from None


def config_from_text(text: str) -> neat.Config:
    """Build a neat.Config from INI text; `ConfigError` (without a file name) if neat-python rejects it."""
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ConfigError(_one_line(exc)) from None
    for section in ("NEAT", "TileGenome", "DefaultSpeciesSet", "DefaultStagnation", "DefaultReproduction"):
        if not parser.has_section(section):
            raise ConfigError(f"missing section [{section}]")
    _check_neat_section(parser)
    fd, tmp = tempfile.mkstemp(suffix=".ini", prefix="tilerunner-neat-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return neat.Config(TileGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet,
                           neat.DefaultStagnation, tmp)
    except Exception as exc:  # neat-python raises RuntimeError, NameError, ValueError, AssertionError ...
        raise ConfigError(_one_line(exc) or f"invalid config ({type(exc).__name__})") from None
    finally:
        os.remove(tmp)


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
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = "; ".join(lines)
    return text.replace("Unknown configuration items:; ", "unknown configuration items: ")
