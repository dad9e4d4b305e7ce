"""`FastSpeciesSet`: neat-python's DefaultSpeciesSet, with the distances and the assignment in Numba.

The same species, members (in the same order), representatives and species ids as
`neat.DefaultSpeciesSet.speciate`, and the same "Mean genetic distance" report, from packed
gene arrays (`tilerunner.agent.distance`) instead of gene-by-gene Python. Configured from the
`[DefaultSpeciesSet]` section like its parent; `load_config` puts it in place of the parent
unless asked for stock neat-python (`load_config(stock_neat=True)`).
"""

from __future__ import annotations

import neat
import numpy as np
from neat.species import Species

from tilerunner.agent.distance import PackedPool, pack_genes, speciate_packed
from tilerunner.agent.genome import breeds_fast


class FastSpeciesSet(neat.DefaultSpeciesSet):
    """`neat.DefaultSpeciesSet` whose `speciate` runs in Numba (falls back to the parent's for other gene types).

    `pool`: genomes already packed (`BatchReproduction` leaves its children's arrays here); under batch
    breeding it keeps this generation's packed genes for the next generation's breeding.
    """

    pool: PackedPool | None = None

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("pool", None)  # arrays to save work, rebuilt when missing
        return state

    def speciate(self, config, population, generation):
        gc = config.genome_config
        if not breeds_fast(gc):
            return super().speciate(config, population, generation)
        assert isinstance(population, dict)
        keys = sorted(population)
        index = {key: i for i, key in enumerate(keys)}
        genomes = [population[key] for key in keys]
        old_ids = sorted(self.species)
        old_rep = np.empty(len(old_ids), np.int64)
        old_rep_pop = np.empty(len(old_ids), np.int64)
        extra = []
        for n, sid in enumerate(old_ids):
            rep = self.species[sid].representative
            at = index.get(rep.key, -1)
            old_rep_pop[n] = at
            if at >= 0 and genomes[at] is rep:
                old_rep[n] = at
            else:  # a representative that did not survive (or a copy of one that did): packed after the population
                old_rep[n] = len(keys) + len(extra)
                extra.append(rep)
        pool = self.pool
        genes = pool.pack(genomes + extra) if pool is not None else pack_genes(genomes + extra)
        if getattr(gc, "breeding", "exact") == "batch":
            self.pool = PackedPool()
            self.pool.add(genomes + extra, genes)
        else:
            self.pool = None
        ok, new_rep, species_of, reps, mean, stdev = speciate_packed(
            genes,
            len(keys),
            old_rep,
            old_rep_pop,
            float(self.species_set_config.compatibility_threshold),
            float(gc.compatibility_disjoint_coefficient),
            float(gc.compatibility_weight_coefficient),
        )
        if not ok:
            min([], key=lambda x: x)  # more species than genomes: neat-python's own error (ValueError)

        sids = old_ids + [next(self.indexer) for _ in range(len(reps) - len(old_ids))]
        members: dict[int, list[int]] = {sid: [keys[rep]] for sid, rep in zip(sids, reps.tolist())}
        for i, slot in enumerate(species_of.tolist()):
            sid = sids[slot]
            if members[sid][0] != keys[i]:
                members[sid].append(keys[i])  # in ascending key order, after the representative, as neat-python
        self.genome_to_species = {}
        for sid in sorted(members):
            gids = members[sid]
            s = self.species.get(sid)
            if s is None:
                s = Species(sid, generation)
                self.species[sid] = s
            for gid in gids:
                self.genome_to_species[gid] = sid
            s.update(population[gids[0]], {gid: population[gid] for gid in gids})
        if len(population) > 1:
            self.reporters.info(f"Mean genetic distance {mean:.3f}, standard deviation {stdev:.3f}")
