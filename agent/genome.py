"""`TileGenome`: neat-python's DefaultGenome, plus optional LSTM memory cells.

With `memory_cells = false` (the default) a TileGenome is a DefaultGenome: the same
genes, the same mutations, crossover and distance, and even the same draws from
`random`, so a run seeded the same way evolves the same networks (a test checks it).

With `memory_cells = true`, an add-node mutation makes a memory cell with
probability `memory_cell_prob`. A memory cell is an LSTM unit with one scalar cell
state c and output h:

    i = s(b_i + sum_i)   f = s(b_f + sum_f)   o = s(b_o + sum_o)   g = tanh(b + r * sum_g)
    c = f * c + i * g    h = o * tanh(c)

where s is the logistic sigmoid, each sum_* adds weight x source value over the
enabled connections feeding that port, b and r are the node's ordinary bias and
response, and b_i, b_f, b_o are the cell's gate biases (`input_gate_bias`,
`forget_gate_bias`, `output_gate_bias`). A connection's `port` attribute (`cell`,
`input_gate`, `forget_gate`, `output_gate`) says which sum it feeds; it is ignored
when the target is an ordinary node. Gate biases and ports are neat-python gene
attributes, configured like `bias` and `weight` in the genome section
(`forget_gate_bias_init_mean = 4.0`, `port_mutate_rate = 0.05`, ...), so they
mutate, cross over and count in the speciation distance through neat-python's own
attribute machinery.
"""

from __future__ import annotations

import random

from neat.attributes import FloatAttribute, StringAttribute
from neat.config import ConfigParameter
from neat.genes import DefaultConnectionGene, DefaultNodeGene
from neat.genome import DefaultGenome, DefaultGenomeConfig

from tilerunner.agent import batch_breeding as breeding_batch
from tilerunner.agent import breeding
from tilerunner.agent.functions import check_supported

PORTS = ("cell", "input_gate", "forget_gate", "output_gate")
PORT_ID = {name: i for i, name in enumerate(PORTS)}

# Gate-bias settings a config may leave out. A new cell starts mostly closed to writing
# (input gate bias -3: i = 0.05) and open to remembering (forget gate bias 4: f = 0.98), so
# it holds what it is told to store; `tilerunner bench memory` measured these against the
# usual LSTM start (0 and 1), which forgets within a few dozen steps.
_GATE_DEFAULTS = dict(
    init_stdev=1.0,
    init_type="gaussian",
    replace_rate=0.1,
    mutate_rate=0.7,
    mutate_power=0.5,
    max_value=30.0,
    min_value=-30.0,
)


class _MemoryAttributes:
    """Gene attributes that exist only for memory: drawn from `random` only when memory is in use.

    They live outside `_gene_attributes`, so neat-python's own copy/crossover/mutate
    code handles the ordinary attributes exactly as for its default genes; the
    methods below then handle these. Crossover draws for one only when the parents
    differ in it, which (with memory off, where they never differ) keeps the stream
    of random numbers identical to neat-python's.
    """

    _memory_attributes: list = []

    @classmethod
    def get_config_params(cls):
        params = super().get_config_params()
        for a in cls._memory_attributes:
            params += a.get_config_params()
        return params

    @classmethod
    def validate_attributes(cls, config):
        super().validate_attributes(config)
        if config.memory_cells:
            for a in cls._memory_attributes:
                a.validate(config)

    def _uses_memory(self, config) -> bool:
        raise NotImplementedError

    def _neutral_memory(self) -> None:
        raise NotImplementedError

    def init_attributes(self, config):
        super().init_attributes(config)
        if self._uses_memory(config):
            for a in self._memory_attributes:
                setattr(self, a.name, a.init_value(config))
        else:
            self._neutral_memory()

    def mutate(self, config):
        super().mutate(config)
        if self._uses_memory(config):
            for a in self._memory_attributes:
                setattr(self, a.name, a.mutate_value(getattr(self, a.name), config))

    def copy(self):
        new = super().copy()
        self._copy_extra(self, new)
        return new

    def crossover(self, gene2):
        new = super().crossover(gene2)
        self._copy_extra(self, new)
        for a in self._memory_attributes:
            mine, theirs = getattr(self, a.name), getattr(gene2, a.name)
            if mine != theirs and random.random() <= 0.5:
                setattr(new, a.name, theirs)
        return new

    @classmethod
    def _copy_extra(cls, src, dst) -> None:
        for a in cls._memory_attributes:
            setattr(dst, a.name, getattr(src, a.name))


class TileNodeGene(_MemoryAttributes, DefaultNodeGene):
    """A node gene that may be a memory cell (`memory` True), with three gate biases."""

    _memory_attributes = [
        FloatAttribute("input_gate_bias", init_mean=-3.0, **_GATE_DEFAULTS),
        FloatAttribute("forget_gate_bias", init_mean=4.0, **_GATE_DEFAULTS),
        FloatAttribute("output_gate_bias", init_mean=0.0, **_GATE_DEFAULTS),
    ]

    def __init__(self, key, memory: bool = False):
        super().__init__(key)
        self.memory = memory

    def _uses_memory(self, config) -> bool:
        return self.memory

    def _neutral_memory(self) -> None:
        for a in self._memory_attributes:
            setattr(self, a.name, 0.0)

    @classmethod
    def _copy_extra(cls, src, dst) -> None:
        super()._copy_extra(src, dst)
        dst.memory = src.memory

    def distance(self, other, config):
        d = super().distance(other, config)
        if self.memory or other.memory:
            extra = 1.0 if self.memory != other.memory else 0.0
            for a in self._memory_attributes:
                extra += abs(getattr(self, a.name) - getattr(other, a.name))
            d += extra * config.compatibility_weight_coefficient
        return d

    def __str__(self):
        text = super().__str__()
        if not self.memory:
            return text
        gates = ", ".join(f"{a.name}={getattr(self, a.name)}" for a in self._memory_attributes)
        return text[:-1] + f", memory=True, {gates})"


class TileConnectionGene(_MemoryAttributes, DefaultConnectionGene):
    """A connection gene with a `port`: which part of a memory cell it feeds."""

    _memory_attributes = [StringAttribute("port", options=list(PORTS), default="random", mutate_rate=0.05)]

    def _uses_memory(self, config) -> bool:
        return config.memory_cells

    def _neutral_memory(self) -> None:
        self.port = "cell"

    def distance(self, other, config):
        d = super().distance(other, config)
        if self.port != other.port:
            d += config.compatibility_weight_coefficient
        return d

    def __str__(self):
        text = super().__str__()
        return text if self.port == "cell" else text[:-1] + f", port={self.port})"


_EXTRA_PARAMS = [
    ConfigParameter("memory_cells", bool, False),
    ConfigParameter("memory_cell_prob", float, 0.5),
    ConfigParameter("breeding", str, "exact"),
]
BREEDING = ("exact", "batch")  # gene by gene as neat-python, bit for bit; or a generation at a time (opt-in)


class _PackedGenes:
    """`TileGenome.nodes` / `.connections` while batch breeding holds them packed: made from the arrays when
    first asked for. A non-data descriptor, so a genome's own attribute, once set, is found first."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, genome, owner=None):
        if genome is None:
            return self
        if "_packed" not in genome.__dict__:
            raise AttributeError(f"{type(genome).__name__!r} object has no attribute {self.name!r}")
        genome._unpack()
        return genome.__dict__[self.name]


class TileGenome(DefaultGenome):
    """neat-python's DefaultGenome with optional LSTM memory cells (see the module docstring).

    Configured from the `[TileGenome]` section of a neat-python INI file: every
    DefaultGenome option, plus `memory_cells` (default false), `memory_cell_prob`
    (default 0.5), the gate-bias settings and the `port_*` settings, and `breeding`
    (`exact`, the default, or `batch`: `tilerunner.agent.batch_breeding`), all optional.
    """

    @classmethod
    def parse_config(cls, param_dict):
        param_dict = dict(param_dict)
        param_dict["node_gene_type"] = TileNodeGene
        param_dict["connection_gene_type"] = TileConnectionGene
        section = cls.__name__
        # Functions the kernels cannot run are rejected first, by name, with the supported list.
        for kind in ("activation", "aggregation"):
            default = param_dict.get(f"{kind}_default", "random")
            named = [] if default.lower() in ("none", "random") else [default]
            check_supported(kind, named + param_dict.get(f"{kind}_options", "").split())
        extra = {p.name: p.interpret(param_dict, section) for p in _EXTRA_PARAMS}
        # DefaultGenomeConfig validates gene attributes as it parses; memory_cells must be known first.
        config = DefaultGenomeConfig.__new__(DefaultGenomeConfig)
        config.__dict__.update(extra)
        DefaultGenomeConfig.__init__(config, param_dict, section)
        config._params += _EXTRA_PARAMS
        if not 0.0 <= config.memory_cell_prob <= 1.0:
            raise RuntimeError(f"memory_cell_prob must be between 0 and 1, got {config.memory_cell_prob}")
        if config.breeding not in BREEDING:
            raise RuntimeError(f"breeding must be one of {', '.join(BREEDING)}, got {config.breeding!r}")
        bad_ports = sorted(set(config.port_options) - set(PORTS))
        if bad_ports:
            raise RuntimeError(f"port_options: unknown port {bad_ports[0]!r}; ports are {', '.join(PORTS)}")
        known = {p.name for p in config._params} | {"node_gene_type", "connection_gene_type"}
        unknown = sorted(set(param_dict) - known)
        if unknown:
            raise RuntimeError(f"unknown item in [{section}]: {unknown[0]}")
        return config

    def configure_crossover(self, genome1, genome2, config):
        """neat-python's crossover, faster (`tilerunner.agent.breeding`): the same draws, the same child.

        While a batch is open (`BatchReproduction`), the child is only recorded, and bred with its generation.
        """
        batch = getattr(config, "batch", None)
        if batch is not None:
            batch.record(self, genome1, genome2)
        elif breeds_fast(config):
            breeding.crossover(self, genome1, genome2, config)
        else:
            super().configure_crossover(genome1, genome2, config)

    def mutate(self, config):
        """neat-python's mutation, faster (`tilerunner.agent.breeding`): the same draws, the same genome."""
        batch = getattr(config, "batch", None)
        if batch is not None and batch.record_mutation(self):
            return
        if breeds_fast(config):
            breeding.mutate(self, config)
        else:
            super().mutate(config)

    # Set by mutate_add_node for the one node it creates.
    _next_node_is_memory = False

    def create_node(self, config, node_id):  # DefaultGenome calls this through self
        node = config.node_gene_type(node_id, memory=self._next_node_is_memory)
        node.init_attributes(config)
        return node

    def mutate_add_node(self, config):
        before = set(self.nodes)
        memory = config.memory_cells and random.random() < config.memory_cell_prob
        self._next_node_is_memory = memory
        try:
            super().mutate_add_node(config)
        finally:
            self._next_node_is_memory = False
        added = set(self.nodes) - before
        if memory and added:
            # Connection (i, o) was split into (i, new) and (new, o). The first feeds the cell's
            # input, so the cell starts by passing the signal on; the second keeps the old port.
            (new,) = added
            (i,) = [a for (a, b) in self.connections if b == new]
            (o,) = [b for (a, b) in self.connections if a == new]
            self.connections[(i, new)].port = "cell"
            self.connections[(new, o)].port = self.connections[(i, o)].port

    # Batch breeding leaves a child's genes packed (`tilerunner.agent.batch_breeding`); most such genomes are
    # compiled, speciated and bred from the arrays and never asked for gene objects. `nodes` and `connections`
    # are then missing from the genome's __dict__ and the class's `_PackedGenes` descriptors make them on first
    # access; once made (or for a genome bred any other way) they are plain instance attributes, read at no cost.

    nodes = _PackedGenes()
    connections = _PackedGenes()

    def keep_packed(self, genes, index: int, config) -> None:
        """Hold this genome's genes as packed genome `index` of `genes` (a `GeneArrays`) until asked for."""
        self.__dict__.pop("nodes", None)
        self.__dict__.pop("connections", None)
        self._packed = (genes, index, config.node_gene_type, config.connection_gene_type)

    def packed_genes(self):
        """(GeneArrays, index) while this genome's genes are still packed, else None."""
        packed = self.__dict__.get("_packed")
        return None if packed is None else packed[:2]

    def _unpack(self) -> None:
        genes, index, node_type, conn_type = self.__dict__.pop("_packed")
        self.nodes, self.connections = breeding_batch.unpack(genes, index, node_type, conn_type)

    def __getstate__(self):
        """Pickles and copies carry gene objects, never the generation's arrays."""
        if "_packed" in self.__dict__:
            self._unpack()
        return self.__dict__

    def get_pruned_copy(self, genome_config):
        pruned = super().get_pruned_copy(genome_config)
        copy = type(self)(None)
        copy.nodes, copy.connections = pruned.nodes, pruned.connections
        return copy

    def memory_nodes(self) -> list[int]:
        """Keys of the nodes that are memory cells."""
        return [k for k, n in self.nodes.items() if getattr(n, "memory", False)]


class StockTileGenome(TileGenome):
    """A TileGenome bred by neat-python's own generic code (`DefaultGenome.configure_crossover` and `mutate`).

    What `TileGenome` is equal to, draw for draw, only slower: kept to check that, and to time it
    (`load_config(stock_neat=True)`, `tilerunner bench evolve`).
    """

    configure_crossover = DefaultGenome.configure_crossover
    mutate = DefaultGenome.mutate


def breeds_fast(config) -> bool:
    """Whether genome config `config` breeds the genes `tilerunner.agent.breeding` writes out (TileGenome's own)."""
    return config.node_gene_type is TileNodeGene and config.connection_gene_type is TileConnectionGene
