"""Genomes -> flat numpy arrays (`NetArrays`, `CompiledNetwork`): one compiler, in Numba, for every genome.

A genome's genes are packed into arrays first (`tilerunner.agent.distance.pack_genes`), unless batch
breeding left them packed (`TileGenome.packed_genes`); one Numba kernel then compiles any number of
packed genomes in one call, so a genome bred gene by gene and one bred in a batch go the same way.
The rules (`neat.nn.RecurrentNetwork` evaluates a superset and gives the same outputs, tests/test_network.py):

- only enabled connections count, and only nodes from which an output can be reached along them;
- value slots: input -k at k-1, output o at n_inputs + o, then every other node as it first appears
  (source before target) among the enabled links into evaluated nodes, in the genome's gene order;
- a node is evaluated when at least one such link enters it, in the order of its first one, with its
  links in gene order; a node without one stays 0.

Memory cells (`tilerunner.agent.genome`) compile alongside ordinary nodes (gate biases, link ports).
A genome that is not a TileGenome (neat-python's DefaultGenome) compiles as one without memory cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
from numba import njit

from tilerunner.agent import kernels as K
from tilerunner.agent.distance import CODES, KEY_SHIFT, GeneArrays, join_genomes, pack_genes
from tilerunner.agent.functions import ACTIVATION_ID, AGGREGATION_ID, check_supported
from tilerunner.agent.genome import PORT_ID, TileGenome


@njit(cache=True, inline="always")
def _local(keys: np.ndarray, sorted_pos: np.ndarray, lo: int, hi: int, key: int) -> int:
    """Index (from 0) among a genome's nodes [lo, hi) of the node with `key`, or -1."""
    a, b = lo, hi
    while a < b:
        mid = (a + b) // 2
        if keys[sorted_pos[mid]] < key:
            a = mid + 1
        else:
            b = mid
    if a < hi and keys[sorted_pos[a]] == key:
        return sorted_pos[a] - lo
    return -1


@njit(cache=True)
def _compile(g: GeneArrays, which: np.ndarray, n_in: int, n_out: int):
    """The structure of packed genomes `which` compiled by the rules above: per network its evaluated nodes
    (as gene positions in `g`), their value slots and links (as gene positions; where each node's end, over all
    networks), and its hidden value slots."""
    n_nodes = 0
    n_links = 0
    for a in which:
        n_nodes += g.node_off[a + 1] - g.node_off[a]
        n_links += g.conn_off[a + 1] - g.conn_off[a]
    net_node_off = np.zeros(which.size + 1, np.int64)
    n_slots = np.zeros(which.size, np.int64)
    max_in = np.zeros(which.size, np.int64)
    node_slot = np.empty(n_nodes, np.int64)
    node_gene = np.empty(n_nodes, np.int64)  # the gene (position in g) of each evaluated node
    node_link_end = np.empty(n_nodes, np.int64)
    slot_gene = np.empty(n_nodes, np.int64)  # the node in each value slot after the outputs', in slot order
    link_src = np.empty(n_links, np.int64)
    link_gene = np.empty(n_links, np.int64)
    mask = KEY_SHIFT - 1
    out_node = 0
    out_link = 0
    out_slot = 0
    for w in range(which.size):
        a = which[w]
        lo, hi = g.node_off[a], g.node_off[a + 1]
        m = hi - lo
        # enabled links grouped by target (in gene order within each target): a counting sort
        into = np.full(g.conn_off[a + 1] - g.conn_off[a], -1, np.int64)  # target's local index, per link
        src = np.empty(into.size, np.int64)  # source's local index (>= 0) or input key (< 0)
        counts = np.zeros(m + 1, np.int64)
        for k in range(into.size):
            p = g.conn_off[a] + k
            if not g.conn_enabled[p]:
                continue
            o = g.conn_key[p] & mask
            i = g.conn_key[p] >> 32
            t = _local(g.node_key, g.node_sorted, lo, hi, o)
            if t < 0:
                continue  # a link into a node the genome lacks feeds nothing (no valid genome has one)
            s = _local(g.node_key, g.node_sorted, lo, hi, i) if i >= 0 else i
            if s == -1 and i >= 0:
                continue  # nor one from a node it lacks
            into[k] = t
            src[k] = s
            counts[t + 1] += 1
        for t in range(m):
            counts[t + 1] += counts[t]
        order = np.empty(counts[m], np.int64)
        fill = counts[:m].copy()
        for k in range(into.size):
            t = into[k]
            if t >= 0:
                order[fill[t]] = k
                fill[t] += 1
        # nodes that reach an output along enabled links (outputs included)
        required = np.zeros(m, np.bool_)
        stack = np.empty(m, np.int64)
        top = 0
        for o in range(n_out):
            t = _local(g.node_key, g.node_sorted, lo, hi, o)
            if t >= 0:
                required[t] = True
                stack[top] = t
                top += 1
        while top > 0:
            top -= 1
            t = stack[top]
            for q in range(counts[t], counts[t + 1]):
                s = src[order[q]]
                if s >= 0 and not required[s]:
                    required[s] = True
                    stack[top] = s
                    top += 1
        # value slots: inputs, outputs, then nodes as they first appear in the links evaluated
        slot = np.full(m, -1, np.int64)
        for t in range(m):
            key = g.node_key[lo + t]
            if 0 <= key < n_out:
                slot[t] = n_in + key
        next_slot = n_in + n_out
        evaluated = np.zeros(m, np.bool_)
        first = out_node
        for k in range(into.size):
            t = into[k]
            if t < 0 or not required[t]:
                continue
            s = src[k]
            if s >= 0 and slot[s] < 0:
                slot[s] = next_slot
                next_slot += 1
                slot_gene[out_slot] = lo + s
                out_slot += 1
            if slot[t] < 0:
                slot[t] = next_slot
                next_slot += 1
                slot_gene[out_slot] = lo + t
                out_slot += 1
            if not evaluated[t]:
                evaluated[t] = True
                node_gene[out_node] = lo + t
                out_node += 1
        biggest = 0
        for j in range(first, out_node):
            t = node_gene[j] - lo
            node_slot[j] = slot[t]
            for q in range(counts[t], counts[t + 1]):
                k = order[q]
                s = src[k]
                link_src[out_link] = slot[s] if s >= 0 else -s - 1
                link_gene[out_link] = g.conn_off[a] + k
                out_link += 1
            node_link_end[j] = out_link
            biggest = max(biggest, counts[t + 1] - counts[t])
        net_node_off[w + 1] = out_node
        n_slots[w] = next_slot
        max_in[w] = biggest
    return (
        net_node_off,
        n_slots,
        max_in,
        node_slot[:out_node],
        node_gene[:out_node],
        node_link_end[:out_node],
        link_src[:out_link],
        link_gene[:out_link],
        slot_gene[:out_slot],
    )


class _OrdinaryGene:
    """A gene of a genome that is not a TileGenome, as the packer reads one: an ordinary node, a `cell` port."""

    memory = False
    input_gate_bias = forget_gate_bias = output_gate_bias = 0.0
    port = "cell"

    def __init__(self, gene) -> None:
        self.__dict__ = gene.__dict__


def _as_tile_genome(genome):
    """`genome` with genes the packer can read: itself if a TileGenome, else a view with `_OrdinaryGene`s."""
    if isinstance(genome, TileGenome):
        return genome
    return SimpleNamespace(
        nodes={k: _OrdinaryGene(n) for k, n in genome.nodes.items()},
        connections={k: _OrdinaryGene(c) for k, c in genome.connections.items()},
    )


def packed_genomes(genomes: Sequence) -> tuple[GeneArrays, np.ndarray]:
    """The genes of `genomes` as one `GeneArrays`, and where each genome is in it.

    Genomes batch breeding left packed are read from their arrays (no gene objects are made); the
    others are packed with `pack_genes`.
    """
    parts: list[GeneArrays] = []
    base: dict[int, int] = {}  # id of a GeneArrays -> where its genomes start in the joined arrays
    start = 0
    where = np.empty(len(genomes), np.int64)
    loose: list[int] = []
    for n, genome in enumerate(genomes):
        held = genome.packed_genes() if isinstance(genome, TileGenome) else None
        if held is None:
            loose.append(n)
            continue
        arrays, index = held
        if id(arrays) not in base:
            base[id(arrays)] = start
            parts.append(arrays)
            start += arrays.node_off.size - 1
        where[n] = base[id(arrays)] + index
    if loose:
        parts.append(pack_genes([_as_tile_genome(genomes[n]) for n in loose]))
        where[loose] = start + np.arange(len(loose))
    return join_genomes(parts), where


_ID_TABLES: dict[tuple[int, int], np.ndarray] = {}


def _kernel_ids(kind: str, table: dict[str, int], codes: np.ndarray) -> np.ndarray:
    """The kernels' ids (`table`) of the names `codes` stand for (`CODES`), -1 for a name `table` lacks;
    `UnsupportedFunctionError` when `kind` is given and a code names a function the kernels lack."""
    names = CODES.names  # names are only ever added, so a table stays right for as many names as it was made for
    ids = _ID_TABLES.get((id(table), len(names)))
    if ids is None:
        ids = _ID_TABLES[id(table), len(names)] = np.array([table.get(n, -1) for n in names] or [-1], np.int64)
    out = ids[codes]
    if kind and out.size and out.min() < 0:
        check_supported(kind, [names[c] for c in np.unique(codes).tolist()])
    return out


class _Compiled(NamedTuple):
    """Networks compiled by `_compile`: all in one `NetArrays` (as `pack` would join them), and for each network
    its own `max_in`; the keys of the evaluated nodes, and of the nodes in value slots after the outputs'."""

    net: K.NetArrays
    max_in: np.ndarray  # (N)
    node_key: np.ndarray  # (M)
    slot_key: np.ndarray  # network after network


def _compiled(genomes: Sequence, genome_config) -> _Compiled:
    g, which = packed_genomes(genomes)
    gc = getattr(genome_config, "genome_config", genome_config)
    n_in, n_out = gc.num_inputs, gc.num_outputs
    (node_off, n_slots, max_in, node_slot, node_gene, link_end, link_src, link_gene, slot_gene) = _compile(
        g, which, n_in, n_out
    )
    floats = g.node_float[node_gene]
    slot_off = np.zeros(n_slots.size + 1, np.int64)
    np.cumsum(n_slots, out=slot_off[1:])
    net = K.NetArrays(
        n_inputs=n_in,
        n_outputs=n_out,
        net_node_off=node_off,
        net_slot_off=slot_off,
        node_slot=node_slot,
        node_act=_kernel_ids("activation", ACTIVATION_ID, g.node_act[node_gene]),
        node_agg=_kernel_ids("aggregation", AGGREGATION_ID, g.node_agg[node_gene]),
        node_bias=np.ascontiguousarray(floats[:, 0]),
        node_response=np.ascontiguousarray(floats[:, 1]),
        node_memory=g.node_memory[node_gene],
        node_gate_bias=np.ascontiguousarray(floats[:, 3:6]),
        node_link_off=np.concatenate((np.zeros(1, np.int64), link_end)),
        link_src=link_src,
        link_weight=g.conn_weight[link_gene],
        link_port=_kernel_ids("", PORT_ID, g.conn_port[link_gene]),
        max_in=int(max_in.max()),
    )
    return _Compiled(net, max_in, g.node_key[node_gene], g.node_key[slot_gene])


def _one_each(c: _Compiled) -> list[K.NetArrays]:
    """Each network of `c` as a `NetArrays` of its own (views of `c`'s arrays)."""
    net, nets = c.net, []
    for w in range(c.max_in.size):
        lo, hi = int(net.net_node_off[w]), int(net.net_node_off[w + 1])
        base, end = int(net.node_link_off[lo]), int(net.node_link_off[hi])
        nets.append(
            K.NetArrays(
                n_inputs=net.n_inputs,
                n_outputs=net.n_outputs,
                net_node_off=np.array([0, hi - lo], np.int64),
                net_slot_off=np.array([0, net.net_slot_off[w + 1] - net.net_slot_off[w]], np.int64),
                node_slot=net.node_slot[lo:hi],
                node_act=net.node_act[lo:hi],
                node_agg=net.node_agg[lo:hi],
                node_bias=net.node_bias[lo:hi],
                node_response=net.node_response[lo:hi],
                node_memory=net.node_memory[lo:hi],
                node_gate_bias=net.node_gate_bias[lo:hi],
                node_link_off=net.node_link_off[lo : hi + 1] - base,
                link_src=net.link_src[base:end],
                link_weight=net.link_weight[base:end],
                link_port=net.link_port[base:end],
                max_in=int(c.max_in[w]),
            )
        )
    return nets


def compile_arrays(genome, genome_config) -> K.NetArrays:
    """One genome as the flat arrays the kernels take (`genome_config`: a neat genome config or `NetworkShape`)."""
    return _one_each(_compiled([genome], genome_config))[0]


def compile_genomes(genomes: Sequence, genome_config) -> list[K.NetArrays]:
    """Each of `genomes` compiled to arrays of its own, all in one kernel call (`compile_arrays` for each)."""
    if not genomes:
        return []
    return _one_each(_compiled(genomes, genome_config))


def compile_population(genomes: Sequence, config) -> K.NetArrays:
    """`genomes` compiled into one `NetArrays` for `kernels.activate_population` (and the fused rollouts).

    The same arrays as `pack([compile_arrays(g, config) for g in genomes])`, in one kernel call.
    """
    if not genomes:
        raise ValueError("cannot pack an empty list of networks")
    return _compiled(genomes, config).net


def node_slots(genome, genome_config) -> tuple[dict[int, int], dict[int, int]]:
    """Where a compiled genome keeps each node's state: (key -> value slot, key -> cell index).

    For drawing a live network: `values[active, slot]` is a node's value and `cells[index]`
    a memory cell's state. Nodes the network does not evaluate (no path to an output) are absent.
    """
    c = _compiled([genome], genome_config)
    n_in, n_out = c.net.n_inputs, c.net.n_outputs
    slots = {-i - 1: i for i in range(n_in)} | {o: n_in + o for o in range(n_out)}
    slots |= {key: n_in + n_out + j for j, key in enumerate(c.slot_key.tolist())}
    return slots, {key: j for j, key in enumerate(c.node_key.tolist())}


def pack(nets: Sequence[K.NetArrays]) -> K.NetArrays:
    """Concatenate single networks into one `NetArrays` for the population kernels."""
    if not nets:
        raise ValueError("cannot pack an empty list of networks")
    n_in, n_out = nets[0].n_inputs, nets[0].n_outputs
    if any(n.n_inputs != n_in or n.n_outputs != n_out for n in nets):
        raise ValueError("all packed networks need the same numbers of inputs and outputs")
    node_counts = np.array([n.node_slot.size for n in nets], dtype=np.int64)
    slot_counts = np.array([n.net_slot_off[-1] for n in nets], dtype=np.int64)
    link_counts = np.array([n.link_src.size for n in nets], dtype=np.int64)
    link_base = np.concatenate([[0], np.cumsum(link_counts)[:-1]])
    node_link_off = np.concatenate(
        [n.node_link_off[:-1] + base for n, base in zip(nets, link_base)] + [[link_counts.sum()]]
    ).astype(np.int64)
    return K.NetArrays(
        n_inputs=n_in,
        n_outputs=n_out,
        net_node_off=np.concatenate([[0], np.cumsum(node_counts)]).astype(np.int64),
        net_slot_off=np.concatenate([[0], np.cumsum(slot_counts)]).astype(np.int64),
        node_slot=np.concatenate([n.node_slot for n in nets]),
        node_act=np.concatenate([n.node_act for n in nets]),
        node_agg=np.concatenate([n.node_agg for n in nets]),
        node_bias=np.concatenate([n.node_bias for n in nets]),
        node_response=np.concatenate([n.node_response for n in nets]),
        node_memory=np.concatenate([n.node_memory for n in nets]),
        node_gate_bias=np.concatenate([n.node_gate_bias for n in nets]).reshape(-1, 3),
        node_link_off=node_link_off,
        link_src=np.concatenate([n.link_src for n in nets]),
        link_weight=np.concatenate([n.link_weight for n in nets]),
        link_port=np.concatenate([n.link_port for n in nets]),
        max_in=max(n.max_in for n in nets),
    )


def new_state(net: K.NetArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zeroed activation state for packed networks: (values (2, slots), cells (nodes,), active (N,))."""
    n_nets = net.net_node_off.size - 1
    return (np.zeros((2, int(net.net_slot_off[-1]))), np.zeros(net.node_slot.size), np.zeros(n_nets, dtype=np.int64))


class CompiledNetwork:
    """A genome compiled to flat numpy arrays, with its own activation state.

    Picklable and cheap to ship to other processes. `activate` is the convenient
    per-step Python entry; `activate_steps` runs many steps in one kernel call.
    """

    def __init__(self, arrays: K.NetArrays) -> None:
        self.arrays = arrays
        self.values, self.cells, self.active = new_state(arrays)
        self._scratch = np.empty(max(arrays.max_in, 1))
        self._out = np.empty((1, arrays.n_outputs))

    @classmethod
    def create(cls, genome, config) -> CompiledNetwork:
        """Compile `genome` with the genome settings of a neat `config` (or of its `genome_config`)."""
        return cls(compile_arrays(genome, getattr(config, "genome_config", config)))

    @property
    def n_nodes(self) -> int:
        """Nodes evaluated each step (hidden, output and memory nodes that reach an output)."""
        return int(self.arrays.node_slot.size)

    @property
    def n_links(self) -> int:
        return int(self.arrays.link_src.size)

    def reset(self) -> None:
        """Forget all activity: values and memory-cell states back to 0."""
        self.values[:] = 0.0
        self.cells[:] = 0.0
        self.active[:] = 0

    def activate(self, inputs) -> np.ndarray:
        """One step: the outputs (a new float64 array) for this step's `inputs`."""
        x = np.asarray(inputs, dtype=np.float64)
        if x.shape != (self.arrays.n_inputs,):
            raise ValueError(f"expected {self.arrays.n_inputs} inputs, got shape {x.shape}")
        K.activate_step(self.arrays, self.values, self.cells, self.active, x.reshape(1, -1), self._out, self._scratch)
        return self._out[0].copy()

    def activate_steps(self, inputs) -> np.ndarray:
        """Many steps in one call: inputs (T, n_inputs) -> outputs (T, n_outputs)."""
        x = np.ascontiguousarray(inputs, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.arrays.n_inputs:
            raise ValueError(f"expected inputs of shape (T, {self.arrays.n_inputs}), got {x.shape}")
        out = np.empty((x.shape[0], self.arrays.n_outputs))
        K.activate_steps(self.arrays, self.values, self.cells, self.active, x, out)
        return out


def compile_genome(genome, config) -> CompiledNetwork:
    """`tilerunner.agent.compile`: a genome and its neat config (or genome config) -> `CompiledNetwork`."""
    return CompiledNetwork.create(genome, config)
