"""Build neat configs for tests from tests/data/neat_small.ini with a few settings changed."""

from __future__ import annotations

import pathlib
import re

import neat

from agent import TileGenome

BASE = pathlib.Path(__file__).with_name("data") / "neat_small.ini"


def config_text(section: str = "TileGenome", **settings) -> str:
    """The small test config, with `settings` replacing (or adding to) the genome section."""
    text = BASE.read_text().replace("[TileGenome]", f"[{section}]")
    for key, value in settings.items():
        line = f"{key:<23} = {value}"
        text, n = re.subn(rf"^{key}\s*=.*$", line, text, flags=re.M)
        if not n:
            text = text.replace(f"[{section}]\n", f"[{section}]\n{line}\n")
    return text


def make_config(tmp_path, genome_type=TileGenome, **settings) -> neat.Config:
    path = tmp_path / f"{genome_type.__name__}-{abs(hash(tuple(sorted(settings.items()))))}.ini"
    path.write_text(config_text(genome_type.__name__, **settings))
    return neat.Config(genome_type, neat.DefaultReproduction, neat.DefaultSpeciesSet,
                       neat.DefaultStagnation, str(path))
