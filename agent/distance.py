"""Genomic distance of TileGenomes on packed gene arrays, in Numba, equal bit for bit to neat-python's.

neat-python's speciation measures `DefaultGenome.distance` between every genome and the
species representatives, in Python, gene by gene (~50 us a pair of 100-gene genomes); at
a population of 300 and ten species that is most of a generation's bookkeeping. Here the
genomes of a generation are packed once into flat arrays (`pack_genes`) and
`genome_distance` computes the same sum: each homologous gene's distance (`TileNodeGene`'s,
`TileConnectionGene`'s, memory-cell attributes included), added up in the first genome's
gene order as neat-python adds them, then the disjoint genes, so the float result is
identical, not merely close. `speciate_packed` runs neat-python's whole species assignment
(`DefaultSpeciesSet.speciate`, its distance cache included) on those arrays.
"""

from __future__ import annotations

import math
from itertools import chain
from operator import attrgetter
from typing import NamedTuple

import numpy as np
from numba import njit, prange

KEY_SHIFT = 1 << 32  # a connection key (i, o) packs as i * 2**32 + o


class GeneArrays(NamedTuple):
    """Genomes' genes as flat arrays; genome g's nodes are [node_off[g], node_off[g+1]) in its own dict order."""

    node_off: np.ndarray  # int64 (G+1)
    node_key: np.ndarray  # int64 (M)
    node_sorted: np.ndarray  # int64 (M): each genome's node positions, sorted by key (for lookups)
    node_float: np.ndarray  # float64 (M, 6): bias, response, time_constant, input/forget/output gate bias
    node_act: np.ndarray  # int64 (M): activation name, as a code
    node_agg: np.ndarray  # int64 (M): aggregation name, as a code
    node_memory: np.ndarray  # bool (M)
    conn_off: np.ndarray  # int64 (G+1)
    conn_key: np.ndarray  # int64 (C)
    conn_sorted: np.ndarray  # int64 (C)
    conn_weight: np.ndarray  # float64 (C)
    conn_enabled: np.ndarray  # bool (C)
    conn_port: np.ndarray  # int64 (C): port name, as a code
    conn_innov: np.ndarray  # int64 (C): innovation number


class _Codes(dict):
    """Names to small integers, handing out the next one to a name not seen yet."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []  # code -> name

    def __missing__(self, name):
        code = self[name] = len(self)
        self.names.append(name)
        return code


CODES = _Codes()
"""Every activation, aggregation and port name packed so far, as a code: one table for all packings, so
arrays packed at different times compare and combine (`CODES.names[code]` is the name back)."""


_NODE_FLOATS = [
    attrgetter(n)
    for n in ("bias", "response", "time_constant", "input_gate_bias", "forget_gate_bias", "output_gate_bias")
]


def pack_genes(genomes: list) -> GeneArrays:
    """The genes of `genomes` (TileGenomes) as `GeneArrays`, genes in each genome's own order."""
    node_dicts = [g.nodes for g in genomes]
    conn_dicts = [g.connections for g in genomes]
    node_off = np.zeros(len(genomes) + 1, np.int64)
    node_off[1:] = np.cumsum(np.fromiter(map(len, node_dicts), np.int64, len(genomes)))
    conn_off = np.zeros(len(genomes) + 1, np.int64)
    conn_off[1:] = np.cumsum(np.fromiter(map(len, conn_dicts), np.int64, len(genomes)))
    m, c = int(node_off[-1]), int(conn_off[-1])
    nodes = list(chain.from_iterable(d.values() for d in node_dicts))
    conns = list(chain.from_iterable(d.values() for d in conn_dicts))
    node_key = np.fromiter(chain.from_iterable(node_dicts), np.int64, m)
    node_float = np.empty((m, 6))
    for column, get in enumerate(_NODE_FLOATS):
        node_float[:, column] = np.fromiter(map(get, nodes), np.float64, m)
    code = CODES.__getitem__
    node_act = np.fromiter(map(code, map(attrgetter("activation"), nodes)), np.int64, m)
    node_agg = np.fromiter(map(code, map(attrgetter("aggregation"), nodes)), np.int64, m)
    node_memory = np.fromiter(map(attrgetter("memory"), nodes), np.bool_, m)
    ends = np.fromiter(chain.from_iterable(chain.from_iterable(conn_dicts)), np.int64, 2 * c).reshape(c, 2)
    conn_key = ends[:, 0] * KEY_SHIFT + ends[:, 1]
    conn_weight = np.fromiter(map(attrgetter("weight"), conns), np.float64, c)
    conn_enabled = np.fromiter(map(attrgetter("enabled"), conns), np.bool_, c)
    conn_port = np.fromiter(map(code, map(attrgetter("port"), conns)), np.int64, c)
    conn_innov = np.fromiter(map(attrgetter("innovation"), conns), np.int64, c)
    return GeneArrays(
        node_off,
        node_key,
        sorted_positions(node_off, node_key),
        node_float,
        node_act,
        node_agg,
        node_memory,
        conn_off,
        conn_key,
        sorted_positions(conn_off, conn_key),
        conn_weight,
        conn_enabled,
        conn_port,
        conn_innov,
    )


def _spans(off: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(new offsets, old position of each new gene, old minus new position) of genomes `which`, in that
    order, taken from arrays with offsets `off`."""
    sizes = off[which + 1] - off[which]
    new_off = np.zeros(which.size + 1, np.int64)
    np.cumsum(sizes, out=new_off[1:])
    shift = np.repeat(off[which] - new_off[:-1], sizes)
    return new_off, np.arange(int(new_off[-1]), dtype=np.int64) + shift, shift


def take_genomes(g: GeneArrays, which: np.ndarray) -> GeneArrays:
    """The packed genomes `which` (indices into `g`), in that order, as arrays of their own."""
    which = np.asarray(which, np.int64)
    spans = {"node": _spans(g.node_off, which), "conn": _spans(g.conn_off, which)}

    def taken(name: str, column: np.ndarray) -> np.ndarray:  # offsets anew, sorted positions shifted, genes taken
        off, genes, shift = spans[name[:4]]
        if name.endswith("_off"):
            return off
        return column[genes] - shift if name.endswith("_sorted") else column[genes]

    return GeneArrays(*(taken(name, column) for name, column in zip(GeneArrays._fields, g)))


def join_genomes(parts: list[GeneArrays]) -> GeneArrays:
    """Packed genomes one after another: the genomes of parts[0], then of parts[1], ..."""
    if len(parts) == 1:
        return parts[0]
    bases = {kind: np.cumsum([0] + [getattr(p, f"{kind}_key").size for p in parts[:-1]]) for kind in ("node", "conn")}

    def joined(name: str) -> np.ndarray:  # offsets and sorted positions moved past the parts before, genes as they are
        columns, base = [getattr(p, name) for p in parts], bases[name[:4]]
        if name.endswith("_off"):
            return np.concatenate([np.zeros(1, np.int64)] + [c[1:] + b for c, b in zip(columns, base)])
        return np.concatenate([c + b for c, b in zip(columns, base)] if name.endswith("_sorted") else columns)

    return GeneArrays(*map(joined, GeneArrays._fields))


class PackedPool:
    """Genomes already packed (a generation's parents and children), found again by identity, not repacked.

    `pack` packs a list of genomes taking every genome the pool holds from its arrays (a genome
    never changes once bred) and packing only the others; the pool then holds what it packed.
    """

    def __init__(self) -> None:
        self.genomes: list = []
        self.parts: list[GeneArrays] = []
        self._at: dict[int, int] = {}

    def add(self, genomes: list, genes: GeneArrays) -> None:
        """Hold `genes`, the packed `genomes` (in that order)."""
        base = len(self.genomes)
        self.genomes.extend(genomes)
        self.parts.append(genes)
        for i, genome in enumerate(genomes):
            self._at[id(genome)] = base + i  # the pool keeps the genome alive, so its id stays its own

    def index(self, genome) -> int:
        """Position of `genome` in the pool, or -1."""
        return self._at.get(id(genome), -1)

    def pack(self, genomes: list) -> GeneArrays:
        """`pack_genes(genomes)`, from the pool where it can."""
        where = np.fromiter((self.index(g) for g in genomes), np.int64, len(genomes))
        missing = np.flatnonzero(where < 0)
        if missing.size:
            self.add([genomes[i] for i in missing.tolist()], pack_genes([genomes[i] for i in missing.tolist()]))
            where = np.fromiter((self.index(g) for g in genomes), np.int64, len(genomes))
        if len(self.parts) > 1:
            self.parts = [join_genomes(self.parts)]
        return take_genomes(self.parts[0], where)


@njit(cache=True)
def sorted_positions(off: np.ndarray, keys: np.ndarray) -> np.ndarray:
    out = np.empty(keys.size, np.int64)
    for g in range(off.size - 1):
        lo, hi = off[g], off[g + 1]
        out[lo:hi] = np.argsort(keys[lo:hi]) + lo
    return out


@njit(cache=True, inline="always")
def match_genes(
    keys: np.ndarray, sorted_pos: np.ndarray, a_lo: int, a_hi: int, b_lo: int, b_hi: int, out: np.ndarray
) -> int:
    """out[i - a_lo] = position of the gene of genome b with the key of genome a's gene i, or -1; the number
    matched. One merge of the two genomes' key-sorted genes (cheaper than a search for each)."""
    out[:] = -1
    matched = 0
    ia, ib = a_lo, b_lo
    while ia < a_hi and ib < b_hi:
        pa, pb = sorted_pos[ia], sorted_pos[ib]
        ka, kb = keys[pa], keys[pb]
        if ka == kb:
            out[pa - a_lo] = pb
            matched += 1
            ia += 1
            ib += 1
        elif ka < kb:
            ia += 1
        else:
            ib += 1
    return matched


@njit(cache=True)
def genome_distance(g: GeneArrays, a: int, b: int, disjoint_coef: float, weight_coef: float) -> float:
    """`DefaultGenome.distance` of packed genomes a and b (`a.distance(b)`), with TileGenome's gene distances.

    Homologous genes are found by one merge of the key-sorted genes, and their distances added up in
    genome a's own gene order, as neat-python adds them (so the sum is the same to the last bit)."""
    node_distance = 0.0
    a_lo, a_hi = g.node_off[a], g.node_off[a + 1]
    na = a_hi - a_lo
    nb = g.node_off[b + 1] - g.node_off[b]
    if na > 0 or nb > 0:
        other = np.empty(na, np.int64)
        matched = match_genes(g.node_key, g.node_sorted, a_lo, a_hi, g.node_off[b], g.node_off[b + 1], other)
        f = g.node_float
        for i in range(a_lo, a_hi):
            j = other[i - a_lo]
            if j < 0:
                continue
            d = abs(f[i, 0] - f[j, 0]) + abs(f[i, 1] - f[j, 1])
            d += abs(f[i, 2] - f[j, 2])
            if g.node_act[i] != g.node_act[j]:
                d += 1.0
            if g.node_agg[i] != g.node_agg[j]:
                d += 1.0
            d = d * weight_coef
            if g.node_memory[i] or g.node_memory[j]:
                extra = 1.0 if g.node_memory[i] != g.node_memory[j] else 0.0
                extra += abs(f[i, 3] - f[j, 3])
                extra += abs(f[i, 4] - f[j, 4])
                extra += abs(f[i, 5] - f[j, 5])
                d += extra * weight_coef
            node_distance += d
        disjoint = (na - matched) + (nb - matched)
        node_distance = (node_distance + (disjoint_coef * disjoint)) / max(na, nb)
    connection_distance = 0.0
    a_lo, a_hi = g.conn_off[a], g.conn_off[a + 1]
    ca = a_hi - a_lo
    cb = g.conn_off[b + 1] - g.conn_off[b]
    if ca > 0 or cb > 0:
        other = np.empty(ca, np.int64)
        matched = match_genes(g.conn_key, g.conn_sorted, a_lo, a_hi, g.conn_off[b], g.conn_off[b + 1], other)
        w = g.conn_weight
        for i in range(a_lo, a_hi):
            j = other[i - a_lo]
            if j < 0:
                continue
            d = abs(w[i] - w[j])
            if g.conn_enabled[i] != g.conn_enabled[j]:
                d += 1.0
            d = d * weight_coef
            if g.conn_port[i] != g.conn_port[j]:
                d += weight_coef
            connection_distance += d
        disjoint = (ca - matched) + (cb - matched)
        connection_distance = (connection_distance + (disjoint_coef * disjoint)) / max(ca, cb)
    return node_distance + connection_distance


@njit(cache=True)
def _distances_to(g: GeneArrays, rep: int, todo: np.ndarray, out: np.ndarray, dc: float, wc: float) -> None:
    """out[j] = distance(rep, j) for every j with todo[j].

    In one thread: it runs once per old species, and a parallel region each time cost more than the
    distances whenever another process held a core (a few milliseconds of waiting per region, measured)."""
    for j in range(todo.size):
        if todo[j]:
            out[j] = genome_distance(g, rep, j, dc, wc)


@njit(cache=True, parallel=True)
def _distances_to_reps(
    g: GeneArrays,
    reps: np.ndarray,
    todo: np.ndarray,
    old_of_pop: np.ndarray,
    known: np.ndarray,
    cached: np.ndarray,
    out: np.ndarray,
    fresh: np.ndarray,
    dc: float,
    wc: float,
) -> None:
    """out[j, r] = distance(reps[r], j) for every j with todo[j]; fresh[j, r] where not in the cache (in parallel)."""
    for j in prange(todo.size):
        if not todo[j]:
            continue
        for r in range(reps.size):
            rep = reps[r]
            s1, s2 = old_of_pop[rep], old_of_pop[j]
            if s1 >= 0 and known[s1, j]:
                out[j, r] = cached[s1, j]
            elif s2 >= 0 and known[s2, rep]:
                out[j, r] = cached[s2, rep]
            else:
                out[j, r] = genome_distance(g, rep, j, dc, wc)
                fresh[j, r] = True


@njit(cache=True)
def speciate_packed(
    g: GeneArrays, n_pop: int, old_rep: np.ndarray, old_rep_pop: np.ndarray, threshold: float, dc: float, wc: float
):
    """`DefaultSpeciesSet.speciate` on packed genomes: genomes 0..n_pop-1 are the population in ascending key
    order; old_rep[s] is the packed genome of old species s's representative (species in ascending id order)
    and old_rep_pop[s] the population genome with its key (-1 if none).

    neat-python caches distances by the pair of genome keys, in the orientation first computed (a.distance(b)
    and b.distance(a) may differ in the last bit); the cache here answers the same pairs with the same values.

    Returns (ok, new_rep (S,), species (n_pop,) index into reps, reps, mean distance, stdev): reps are the
    population genomes representing each species, the old ones first, then new ones in order of creation.
    ok is False when there are more old species than genomes (neat-python's `min` of nothing).
    """
    n_old = old_rep.size
    unspeciated = np.ones(n_pop, np.bool_)
    old_of_pop = np.full(n_pop, -1, np.int64)  # population genome -> old species it represented
    for s in range(n_old):
        if old_rep_pop[s] >= 0:
            old_of_pop[old_rep_pop[s]] = s
    known = np.zeros((n_old, n_pop), np.bool_)  # the cache: distance(old_rep[s], j) = cached[s, j]
    cached = np.zeros((n_old, n_pop))
    values = np.empty(1024)  # each distance computed, in order, as often as neat-python's cache holds it
    n_values = 0
    new_rep = np.full(n_old, -1, np.int64)
    species = np.full(n_pop, -1, np.int64)
    row = np.empty(n_pop)
    for s in range(n_old):
        i = old_rep_pop[s]
        todo = unspeciated.copy()
        for j in range(n_pop):  # pairs neat-python has cached the other way round, from an earlier species
            t = old_of_pop[j]
            if todo[j] and 0 <= t < s and i >= 0 and known[t, i]:
                todo[j] = False
                row[j] = cached[t, i]
        _distances_to(g, old_rep[s], todo, row, dc, wc)
        best = -1
        for j in range(n_pop):
            if not unspeciated[j]:
                continue
            d = row[j]
            known[s, j] = True
            cached[s, j] = d
            if todo[j]:
                copies = 1 if i == j else 2
                if n_values + copies > values.size:
                    values = np.concatenate((values, np.empty(values.size)))
                for _ in range(copies):
                    values[n_values] = d
                    n_values += 1
            if best < 0 or d < row[best]:
                best = j
        if best < 0:
            return False, new_rep, species, new_rep, 0.0, 0.0
        new_rep[s] = best
        species[best] = s
        unspeciated[best] = False

    reps = np.empty(n_old + n_pop, np.int64)
    reps[:n_old] = new_rep
    n_reps = n_old
    # The old species' new representatives are known now: their distances to every genome left, in parallel.
    to_old = np.empty((n_pop, n_old))
    fresh = np.zeros((n_pop, n_old), np.bool_)
    _distances_to_reps(g, new_rep, unspeciated, old_of_pop, known, cached, to_old, fresh, dc, wc)
    for j in range(n_pop):
        if not unspeciated[j]:
            continue
        best = -1
        best_d = 0.0
        for r in range(n_reps):
            rep = reps[r]
            if r < n_old:
                d = to_old[j, r]
                new = fresh[j, r]
            else:
                s1, s2 = old_of_pop[rep], old_of_pop[j]
                new = False
                if s1 >= 0 and known[s1, j]:
                    d = cached[s1, j]
                elif s2 >= 0 and known[s2, rep]:
                    d = cached[s2, rep]
                else:
                    d = genome_distance(g, rep, j, dc, wc)
                    new = True
            if new:
                if n_values + 2 > values.size:
                    values = np.concatenate((values, np.empty(values.size)))
                values[n_values] = d
                values[n_values + 1] = d
                n_values += 2
            if d < threshold and (best < 0 or d < best_d):
                best, best_d = r, d
        if best < 0:
            reps[n_reps] = j
            best = n_reps
            n_reps += 1
        species[j] = best
    mean = 0.0
    stdev = 0.0
    if n_values:  # neat-python's math_util.mean and stdev: plain sums in order
        total = 0.0
        for k in range(n_values):
            total += values[k]
        mean = total / n_values
        total = 0.0
        for k in range(n_values):
            total += (values[k] - mean) * (values[k] - mean)
        stdev = math.sqrt(total / n_values)
    return True, new_rep, species, reps[:n_reps].copy(), mean, stdev
