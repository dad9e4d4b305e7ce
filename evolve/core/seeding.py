"""Seed part of a first population with a hand-written reactive controller, written as a genome.

Evolution from random networks finds "run right and hop" within a few generations and stays there
(see the generalisation benchmark in the docs). With the `jump` and `probes` senses a timed jump is a few
connections, so a run may start with some genomes that already are one (issue 21's search levers):

    Right, B   pressed always (output biases);
    A          pressed when a jump may start and a gap, a wall or an enemy is close ahead, and held
               while the jump still has lift; under `press`, on the ground with A still held from
               the last jump (may-jump reads 0) it is let go, so that the next decision can press it.

As one output unit: z_A = 2 may_jump - 2 on_ground + 10 lift - 2 gap_distance - 2 wall_distance
- 4 enemy_dx + 6.5 (distances are 1 when nothing is in view, so with nothing ahead z_A < 0; an
obstacle close ahead makes it positive). The weights are the best of a small grid on a quarter of the
public training levels under `press` (it finishes 11% of them there, and 17% under `hold`: a seed
for evolution to improve, not a finished controller). `seed_population` puts that genome, and copies
of it mutated by neat-python's own `mutate`, in place of a share of the first population, then
speciates again; every draw comes from `random`, which the run's seed set, so runs stay repeatable.

With the `foresight` sense the seed is `rules` itself as a network (`FORESIGHT_NEEDS`): Right, Left and A
each one linear unit over the jump, probes and foresight inputs, B always pressed, with the weights
`tilerunner.evolve.baselines.rules_network.fit` found (DAgger on `rules`' decisions) in
`configs/foresight_seed.json`. It agrees with `rules` on 99% of decisions and finishes about as many
levels: the seed to improve on.
"""

from __future__ import annotations

import copy
import json
from importlib import resources

import neat

from tilerunner.agent import TileGenome
from tilerunner.envs.buttons import BUTTON_NAMES
from tilerunner.envs.observe import input_names
from tilerunner.evolve.core.option_error import OptionError

NEEDS = ("jump", "probes")  # the senses the seed reads
FORESIGHT_NEEDS = ("jump", "probes", "foresight")  # the senses the foresight seed reads
FORESIGHT_RADIUS = 6  # the view radius its weights were fitted at (foresight's progress is scaled by it)
# Output biases (a button is pressed while sigmoid(5 z) > 0.5, i.e. z > 0).
BIASES = {"Left": -1.0, "Right": 1.0, "Up": -1.0, "Down": -1.0, "A": 6.5, "B": 1.0}
# (input name, output button) -> weight. An output with no connection is never evaluated (it reads 0, as in
# neat-python's networks), so Right and B get one of weight 0: their bias alone presses them.
WEIGHTS = {
    ("jump.on_ground", "Right"): 0.0,
    ("jump.on_ground", "B"): 0.0,
    ("jump.may_jump", "A"): 2.0,
    ("jump.on_ground", "A"): -2.0,
    ("jump.can_jump_higher", "A"): 10.0,
    ("probes.gap_distance", "A"): -2.0,
    ("probes.wall_distance", "A"): -2.0,
    ("probes.enemy_dx", "A"): -4.0,
}


def _seed_weights(radius: int, features: tuple[str, ...]) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """(output biases, (input name, button) -> weight) of the seed for these senses (see the module docstring)."""
    if "foresight" not in features:
        return BIASES, WEIGHTS
    if radius != FORESIGHT_RADIUS:
        raise OptionError(
            "seeding from the hand-written rules with foresight needs {view_radius} {fitted}, got {radius}",
            fitted=FORESIGHT_RADIUS,
            radius=radius,
        )
    data = json.loads(resources.files("tilerunner.evolve.core").joinpath("configs", "foresight_seed.json").read_text())
    biases = {"Left": -1.0, "Right": 1.0, "Up": -1.0, "Down": -1.0, "A": -1.0, "B": 1.0}
    weights = {("jump.on_ground", "B"): 0.0}
    for button, unit in data["units"].items():
        biases[button] = unit["bias"]
        weights.update({(name, button): w for name, w in unit["weights"].items()})
    return biases, weights


def reactive_genome(key: int, genome_config, radius: int, features: tuple[str, ...]) -> TileGenome:
    """The controller of the module docstring as a genome for `genome_config` (inputs of `radius`, `features`).

    `OptionError` (a `ValueError` naming `features` or `view_radius`) if the features lack what it reads (`NEEDS`,
    or `FORESIGHT_NEEDS` with foresight) or foresight's weights were fitted at another radius; `ValueError` if the
    config's inputs do not fit them.
    """
    needs = FORESIGHT_NEEDS if "foresight" in features else NEEDS
    missing = [f for f in needs if f not in features]
    if missing:
        raise OptionError(
            "seeding from the hand-written rules needs the senses {needs} ({features} {wanted}); missing {missing}",
            needs=", ".join(needs),
            wanted=",".join(sorted(set(features) | set(needs))),
            missing=", ".join(missing),
        )
    names = input_names(radius, features)
    if len(names) != genome_config.num_inputs:
        raise ValueError(f"the config has {genome_config.num_inputs} inputs, the senses give {len(names)}")
    biases, weights = _seed_weights(radius, features)
    outputs = dict(zip(BUTTON_NAMES, genome_config.output_keys))
    genome = TileGenome(key)
    for name, node_key in outputs.items():
        node = genome.create_node(genome_config, node_key)
        node.bias = biases[name]
        node.response = 1.0
        node.activation = "sigmoid"
        node.aggregation = "sum"
        genome.nodes[node_key] = node
    tracker = genome_config.innovation_tracker
    for (input_name, button), weight in weights.items():
        i, o = -(names.index(input_name) + 1), outputs[button]
        innovation = tracker.get_innovation_number(i, o, "initial_connection") if tracker is not None else 0
        gene = genome.create_connection(genome_config, i, o, innovation)
        gene.weight = weight
        gene.enabled = True
        genome.connections[gene.key] = gene
    return genome


def seed_population(
    population: neat.Population, config: neat.Config, radius: int, features: tuple[str, ...], share: float
) -> list[int]:
    """Replace `share` of the first population (at least one genome) with the reactive controller: the first
    as written, the rest mutated copies. Then speciate afresh. The seeded genomes' keys."""
    if not 0.0 < share <= 1.0:
        raise ValueError(f"the seeded share must be above 0 and at most 1, got {share}")
    if population.generation != 0:
        raise ValueError("only a first population can be seeded")
    gc = config.genome_config
    keys = sorted(population.population)[: max(1, round(share * len(population.population)))]
    base = reactive_genome(keys[0], gc, radius, features)
    for n, key in enumerate(keys):
        genome = copy.deepcopy(base)
        genome.key = key
        if n:
            genome.mutate(gc)
        population.population[key] = genome
    population.species = config.species_set_type(config.species_set_config, population.reporters)
    population.species.speciate(config, population.population, population.generation)
    return keys
