"""Test helpers: neat configs from tests/data/neat_small.ini with a few settings changed, genomes grown from them,
and the slots of a JSON document for property tests to damage."""

from __future__ import annotations

import pathlib
import random
import re

import neat
from neat.innovation import InnovationTracker

from tilerunner.agent import TileGenome

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
    return neat.Config(genome_type, neat.DefaultReproduction, neat.DefaultSpeciesSet, neat.DefaultStagnation, str(path))


def grow(config: neat.Config, n: int, seed: int, mutations: int | None = None, max_mutations: int = 40) -> list:
    """`n` genomes grown with neat-python's own operators (added/deleted nodes and links, cycles, self-loops).

    Each gets `mutations` rounds of `mutate`, or a random 1..`max_mutations` when `mutations` is None.
    """
    gc = config.genome_config
    gc.innovation_tracker = InnovationTracker()
    random.seed(seed)
    out = []
    for key in range(n):
        g = TileGenome(key)
        g.configure_new(gc)
        for _ in range(mutations if mutations is not None else random.randint(1, max_mutations)):
            g.mutate(gc)
        out.append(g)
    return out


def json_slots(doc) -> list[tuple]:
    """Every (container, key) place in a parsed JSON document, nested ones included, for damaging it."""
    slots = []

    def walk(node):
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in list(items):
            slots.append((node, k))
            if isinstance(v, (dict, list)):
                walk(v)

    walk(doc)
    return slots
