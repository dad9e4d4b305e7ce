"""Genome -> flat numpy arrays (`CompiledNetwork`), and populations packed into one set of arrays.

The compiled network keeps exactly the nodes that can affect an output (a subset of what
`neat.nn.RecurrentNetwork.create` evaluates, with the same outputs): enabled connections
only, only nodes from which an output can be reached, each node's links in the genome's
order, and nodes without an enabled input left at 0. Memory cells (see
`agent.genome`) are compiled alongside ordinary nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from tilerunner.agent import kernels as K
from tilerunner.agent.functions import ACTIVATION_ID, AGGREGATION_ID, check_supported
from tilerunner.agent.genome import PORT_ID


def _reaching_outputs(output_keys: Sequence[int], links: list[tuple[int, int]]) -> set[int]:
    """Nodes (not inputs) with a path of enabled links to an output, outputs included."""
    feeds: dict[int, list[int]] = {}
    for i, o in links:
        feeds.setdefault(o, []).append(i)
    required = set(output_keys)
    todo = list(output_keys)
    while todo:
        for i in feeds.get(todo.pop(), ()):
            if i >= 0 and i not in required:
                required.add(i)
                todo.append(i)
    return required


class _Plan(NamedTuple):
    """Which links and nodes a compiled network evaluates, and where each node's value lives."""

    incoming: dict[int, list]  # node key -> its enabled incoming connection genes, in genome order
    slots: dict[int, int]  # node key -> value slot (inputs, outputs, and the hidden nodes evaluated)
    n_slots: int


def _plan(genome, genome_config) -> _Plan:
    n_in = genome_config.num_inputs
    n_out = genome_config.num_outputs
    enabled = [cg for cg in genome.connections.values() if cg.enabled]
    required = _reaching_outputs(genome_config.output_keys, [cg.key for cg in enabled])

    # Value slots: inputs, then outputs, then hidden nodes in order of first appearance.
    # neat-python numbers inputs -1..-n_in and outputs 0..n_out-1, so those slots are arithmetic.
    slots = {-i - 1: i for i in range(n_in)} | {o: n_in + o for o in range(n_out)}
    incoming: dict[int, list] = {}
    for cg in enabled:
        i, o = cg.key
        if o in required:
            incoming.setdefault(o, []).append(cg)
            for key in (i, o):
                if key not in slots:
                    slots[key] = len(slots)
    return _Plan(incoming, slots, len(slots))


def node_slots(genome, genome_config) -> tuple[dict[int, int], dict[int, int]]:
    """Where a compiled genome keeps each node's state: (key -> value slot, key -> cell index).

    For drawing a live network: `values[active, slot]` is a node's value and `cells[index]`
    a memory cell's state. Nodes the network does not evaluate (no path to an output) are absent.
    """
    plan = _plan(genome, genome_config)
    return dict(plan.slots), {key: j for j, key in enumerate(plan.incoming)}


def compile_arrays(genome, genome_config) -> K.NetArrays:
    """One genome as the flat arrays the kernels take (`genome_config`: a neat genome config or `NetworkShape`)."""
    n_in = genome_config.num_inputs
    n_out = genome_config.num_outputs
    incoming, slots, n_slots = _plan(genome, genome_config)
    nodes = list(incoming)
    genes = [genome.nodes[key] for key in nodes]
    check_supported("activation", {g.activation for g in genes})
    check_supported("aggregation", {g.aggregation for g in genes})
    link_off = np.zeros(len(nodes) + 1, dtype=np.int64)
    link_off[1:] = np.cumsum([len(incoming[key]) for key in nodes])
    links = [cg for key in nodes for cg in incoming[key]]
    return K.NetArrays(
        n_inputs=n_in,
        n_outputs=n_out,
        net_node_off=np.array([0, len(nodes)], dtype=np.int64),
        net_slot_off=np.array([0, n_slots], dtype=np.int64),
        node_slot=np.array([slots[key] for key in nodes], dtype=np.int64),
        node_act=np.array([ACTIVATION_ID[g.activation] for g in genes], dtype=np.int64),
        node_agg=np.array([AGGREGATION_ID[g.aggregation] for g in genes], dtype=np.int64),
        node_bias=np.array([g.bias for g in genes], dtype=np.float64),
        node_response=np.array([g.response for g in genes], dtype=np.float64),
        node_memory=np.array([bool(getattr(g, "memory", False)) for g in genes], dtype=np.bool_),
        node_gate_bias=np.array(
            [
                [
                    getattr(g, "input_gate_bias", 0.0),
                    getattr(g, "forget_gate_bias", 0.0),
                    getattr(g, "output_gate_bias", 0.0),
                ]
                for g in genes
            ],
            dtype=np.float64,
        ).reshape(-1, 3),
        node_link_off=link_off,
        link_src=np.array([slots[cg.key[0]] for cg in links], dtype=np.int64),
        link_weight=np.array([cg.weight for cg in links], dtype=np.float64),
        link_port=np.array([PORT_ID[getattr(cg, "port", "cell")] for cg in links], dtype=np.int64),
        max_in=int(max((len(v) for v in incoming.values()), default=0)),
    )


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


def compile_population(genomes: Sequence, config) -> K.NetArrays:
    """Compile and pack many genomes for `kernels.activate_population` (and the fused rollouts)."""
    genome_config = getattr(config, "genome_config", config)
    return pack([compile_arrays(g, genome_config) for g in genomes])
