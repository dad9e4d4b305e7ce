"""`BatchReproduction`: neat-python's DefaultReproduction, breeding a whole generation at once when asked.

With `breeding = batch` in the `[TileGenome]` section, `reproduce` opens a batch on the genome
config, lets neat-python's own `DefaultReproduction.reproduce` choose every species' elites,
spawn counts and parents (the children only record their parents), then breeds the children
together (`tilerunner.agent.batch_breeding`) and hands the packed genes to the species set, so
speciation does not pack them again. With `breeding = exact` (the default) it is
`DefaultReproduction`, draw for draw.
"""

from __future__ import annotations

import neat

from tilerunner.agent.batch_breeding import BatchBreeder
from tilerunner.agent.genome import TileGenome, breeds_fast


def breeds_in_batches(config: neat.Config) -> bool:
    """Whether `config` asks for batch breeding and breeds with TileGenome's own genes and methods."""
    gc = config.genome_config
    return (
        getattr(gc, "breeding", "exact") == "batch"
        and issubclass(config.genome_type, TileGenome)
        and config.genome_type.configure_crossover is TileGenome.configure_crossover
        and config.genome_type.mutate is TileGenome.mutate
        and breeds_fast(gc)
    )


class BatchReproduction(neat.DefaultReproduction):
    """`neat.DefaultReproduction` that breeds a generation's children together under `breeding = batch`."""

    def reproduce(self, config, species, pop_size, generation):
        if not breeds_in_batches(config):
            return super().reproduce(config, species, pop_size, generation)
        gc = config.genome_config
        breeder = BatchBreeder(getattr(species, "pool", None))
        gc.batch = breeder
        try:
            population = super().reproduce(config, species, pop_size, generation)
        finally:
            gc.batch = None
        species.pool = breeder.flush(gc)
        return population
