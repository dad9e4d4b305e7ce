"""Crossover and mutation of TileGenomes, drawing from `random` exactly as neat-python does, faster.

neat-python breeds gene by gene through generic machinery: every attribute of every gene is
mutated by an `Attribute` object that looks its settings up in the config by name
(`getattr(config, "weight_mutate_rate")`), genes are built through asserting constructors,
and crossover asks `hasattr` what kind of gene it has. That costs microseconds a gene, and
a population of 300 genomes of ~100 genes breeds ~30,000 genes a generation.

The functions here do the same work with each setting read once per genome and the gene
attributes of `TileNodeGene`/`TileConnectionGene` written out: the same `random` calls
(`random()`, `gauss`, `choice`) in the same order with the same arguments, the same float
arithmetic, the same genes in the same dict order, so a population bred here is the one
neat-python breeds, bit for bit (tests/test_fast_neat.py compares 50 generations).
Structural mutations (add/delete node/connection) are rare and stay neat-python's own.

They assume the gene types `TileGenome` configures; `TileGenome` calls them only then.
"""

from __future__ import annotations

import math
import random as _random
import warnings

from neat.graphs import creates_cycle

_rnd = _random.random
_gauss = _random.gauss
_choice = _random.choice
_uniform = _random.uniform
_inst = _random._inst  # the generator behind the module functions, which neat-python draws from
_new = object.__new__
_TWOPI, _sqrt, _log, _cos, _sin = math.tau, math.sqrt, math.log, math.cos, math.sin


def _gauss_step(sigma: float) -> float:
    """`random.gauss(0.0, sigma)`, written out: the same draws, the same value (checked on import)."""
    z = _inst.gauss_next
    _inst.gauss_next = None
    if z is None:
        x2pi = _rnd() * _TWOPI
        g2rad = _sqrt(-2.0 * _log(1.0 - _rnd()))
        z = _cos(x2pi) * g2rad
        _inst.gauss_next = _sin(x2pi) * g2rad
    return 0.0 + z * sigma


def _inline_gauss_is_exact() -> bool:
    """Whether `_gauss_step` equals this Python's `random.gauss` (else the loops call `random.gauss`)."""
    state = _random.getstate()
    try:
        _random.seed(12345)
        expected = [_gauss(0.0, 0.5) for _ in range(7)] + [_rnd()]
        _random.seed(12345)
        got = [_gauss_step(0.5) for _ in range(7)] + [_rnd()]
        return got == expected
    finally:
        _random.setstate(state)


if not _inline_gauss_is_exact():  # pragma: no cover  (a Python whose random.gauss differs)

    def _gauss_step(sigma: float) -> float:  # noqa: F811
        return _gauss(0.0, sigma)


NODE_FLOATS = ("bias", "response", "time_constant")
GATE_FLOATS = ("input_gate_bias", "forget_gate_bias", "output_gate_bias")


class FloatSettings:
    """One FloatAttribute's settings, read once: the same values `FloatAttribute` reads per gene."""

    __slots__ = (
        "mutate_rate",
        "either_rate",
        "power",
        "lo",
        "hi",
        "kind",
        "mean",
        "stdev",
        "init_lo",
        "init_hi",
        "init_type",
    )

    def __init__(self, config, name: str) -> None:
        self.mutate_rate = getattr(config, f"{name}_mutate_rate")
        self.either_rate = getattr(config, f"{name}_replace_rate") + self.mutate_rate  # as FloatAttribute adds
        self.power = getattr(config, f"{name}_mutate_power")
        self.lo = getattr(config, f"{name}_min_value")
        self.hi = getattr(config, f"{name}_max_value")
        self.mean = getattr(config, f"{name}_init_mean")
        self.stdev = getattr(config, f"{name}_init_stdev")
        self.init_type = getattr(config, f"{name}_init_type")
        init_type = self.init_type.lower()
        self.kind = (
            "gauss"
            if ("gauss" in init_type or "normal" in init_type)
            else "uniform"
            if "uniform" in init_type
            else "bad"
        )
        self.init_lo = max(self.lo, self.mean - (2 * self.stdev))
        self.init_hi = min(self.hi, self.mean + (2 * self.stdev))

    def init(self, name: str) -> float:
        """`FloatAttribute.init_value`: a fresh value, with the same draws."""
        if self.kind == "gauss":
            return max(min(_gauss(self.mean, self.stdev), self.hi), self.lo)
        if self.kind == "uniform":
            return _uniform(self.init_lo, self.init_hi)
        raise RuntimeError(f"Unknown init_type {self.init_type!r} for {name}_init_type")

    def mutate(self, value: float, name: str) -> float:
        """`FloatAttribute.mutate_value`."""
        r = _rnd()
        if r < self.mutate_rate:
            value = value + _gauss_step(self.power)
            # max(min(value, hi), lo), as neat-python clamps, without the two builtin calls
            if self.hi < value:
                value = self.hi
            if self.lo > value:
                value = self.lo
            return value
        if r < self.either_rate:
            return self.init(name)
        return value


class GeneSettings:
    """Every attribute setting one genome's mutation needs, read from the genome config once."""

    __slots__ = (
        "weight",
        "enabled_if_true",
        "enabled_if_false",
        "port_rate",
        "port_options",
        "memory",
        "floats",
        "gates",
        "act_rate",
        "act_options",
        "agg_rate",
        "agg_options",
        "enabled_default",
        "port_default",
        "act_default",
        "agg_default",
    )

    def __init__(self, config) -> None:
        self.weight = FloatSettings(config, "weight")
        rate = config.enabled_mutate_rate
        self.enabled_if_true = rate + config.enabled_rate_to_false_add  # as BoolAttribute adds
        self.enabled_if_false = rate + config.enabled_rate_to_true_add
        self.memory = bool(config.memory_cells)
        self.port_rate = config.port_mutate_rate if self.memory else 0.0
        self.port_options = config.port_options if self.memory else None
        self.floats = [(name, FloatSettings(config, name)) for name in NODE_FLOATS]
        self.gates = [(name, FloatSettings(config, name)) for name in GATE_FLOATS]  # memory nodes always mutate them
        self.act_rate, self.act_options = config.activation_mutate_rate, config.activation_options
        self.agg_rate, self.agg_options = config.aggregation_mutate_rate, config.aggregation_options
        # what BoolAttribute/StringAttribute.init_value read, for new genes (`batch_breeding`)
        self.enabled_default = str(config.enabled_default).lower()
        self.port_default = config.port_default if self.memory else None
        self.act_default, self.agg_default = config.activation_default, config.aggregation_default


def crossover(child, genome1, genome2, config) -> None:
    """`DefaultGenome.configure_crossover` for TileGenomes (with memory-cell attributes), draw for draw."""
    if genome1.fitness > genome2.fitness:
        parent1, parent2 = genome1, genome2
    else:
        parent1, parent2 = genome2, genome1
    conn_type, node_type = config.connection_gene_type, config.node_gene_type
    # Built exactly as neat-python builds it: the set's iteration order (and so the child's gene order) depends on how.
    parent1_innovations = {cg.innovation: cg for cg in parent1.connections.values()}
    parent2_innovations = {cg.innovation: cg for cg in parent2.connections.values()}
    all_innovations = set(parent1_innovations.keys()) | set(parent2_innovations.keys())
    connections = child.connections
    feed_forward = config.feed_forward
    get1, get2 = parent1_innovations.get, parent2_innovations.get
    rnd, new_object = _rnd, _new
    # A child's gene starts as a copy of the fitter parent's attribute dict (what `copy()` makes, in its order);
    # where the parents differ, a draw may take the other's value (`BaseGene.crossover`: `a if random() > 0.5 else b`).
    for innovation_num in all_innovations:
        cg1 = get1(innovation_num)
        if cg1 is None:
            continue  # genes only in the less fit parent are not inherited
        cg2 = get2(innovation_num)
        new = new_object(conn_type)
        new.__dict__ = attrs = cg1.__dict__.copy()
        if cg2 is not None:
            if cg1.key != cg2.key:
                warnings.warn(
                    f"Innovation number collision: innovation {innovation_num} assigned to both "
                    f"{cg1.key} and {cg2.key}. Treating as disjoint genes.",
                    RuntimeWarning,
                    stacklevel=3,
                )
            else:
                if rnd() <= 0.5:
                    attrs["weight"] = cg2.weight
                enabled1, enabled2 = cg1.enabled, cg2.enabled
                if rnd() <= 0.5:
                    attrs["enabled"] = enabled2
                if not enabled1 or not enabled2:
                    if rnd() < 0.75:
                        attrs["enabled"] = False
                if cg1.port != cg2.port and rnd() <= 0.5:
                    attrs["port"] = cg2.port
        if feed_forward and creates_cycle(list(connections), new.key):
            continue
        connections[new.key] = new

    nodes = child.nodes
    get2 = parent2.nodes.get
    for key, ng1 in parent1.nodes.items():
        ng2 = get2(key)
        assert key not in nodes
        new = new_object(node_type)
        new.__dict__ = attrs = ng1.__dict__.copy()
        if ng2 is not None:
            if rnd() <= 0.5:
                attrs["bias"] = ng2.bias
            if rnd() <= 0.5:
                attrs["response"] = ng2.response
            if rnd() <= 0.5:
                attrs["activation"] = ng2.activation
            if rnd() <= 0.5:
                attrs["aggregation"] = ng2.aggregation
            if rnd() <= 0.5:
                attrs["time_constant"] = ng2.time_constant
            # TileNodeGene draws for a gate bias only where the parents differ (never with memory off).
            if ng1.input_gate_bias != ng2.input_gate_bias and rnd() <= 0.5:
                attrs["input_gate_bias"] = ng2.input_gate_bias
            if ng1.forget_gate_bias != ng2.forget_gate_bias and rnd() <= 0.5:
                attrs["forget_gate_bias"] = ng2.forget_gate_bias
            if ng1.output_gate_bias != ng2.output_gate_bias and rnd() <= 0.5:
                attrs["output_gate_bias"] = ng2.output_gate_bias
        nodes[key] = new


def mutate(genome, config) -> None:
    """`DefaultGenome.mutate` for TileGenomes: neat-python's structural mutations, then every gene's attributes."""
    if config.single_structural_mutation:
        div = max(1, (config.node_add_prob + config.node_delete_prob + config.conn_add_prob + config.conn_delete_prob))
        r = _rnd()
        if r < (config.node_add_prob / div):
            genome.mutate_add_node(config)
        elif r < ((config.node_add_prob + config.node_delete_prob) / div):
            genome.mutate_delete_node(config)
        elif r < ((config.node_add_prob + config.node_delete_prob + config.conn_add_prob) / div):
            genome.mutate_add_connection(config)
        elif r < (
            (config.node_add_prob + config.node_delete_prob + config.conn_add_prob + config.conn_delete_prob) / div
        ):
            genome.mutate_delete_connection()
    else:
        if _rnd() < config.node_add_prob:
            genome.mutate_add_node(config)
        if _rnd() < config.node_delete_prob:
            genome.mutate_delete_node(config)
        if _rnd() < config.conn_add_prob:
            genome.mutate_add_connection(config)
        if _rnd() < config.conn_delete_prob:
            genome.mutate_delete_connection()
    s = GeneSettings(config)
    mutate_connections(genome.connections.values(), s)
    mutate_nodes(genome.nodes.values(), s)


def mutate_connections(genes, s: GeneSettings) -> None:
    w = s.weight
    w_rate, w_either, w_power, w_lo, w_hi = w.mutate_rate, w.either_rate, w.power, w.lo, w.hi
    if_true, if_false = s.enabled_if_true, s.enabled_if_false
    port_rate, port_options = s.port_rate, s.port_options
    step = _gauss_step
    for cg in genes:
        r = _rnd()  # FloatAttribute('weight'), as `FloatSettings.mutate`
        if r < w_rate:
            value = cg.weight + step(w_power)
            if w_hi < value:
                value = w_hi
            if w_lo > value:
                value = w_lo
            cg.weight = value
        elif r < w_either:
            cg.weight = w.init("weight")
        rate = if_true if cg.enabled else if_false  # BoolAttribute('enabled')
        if rate > 0 and _rnd() < rate:
            cg.enabled = _rnd() < 0.5
        if port_options is not None and port_rate > 0 and _rnd() < port_rate:  # StringAttribute('port')
            cg.port = _choice(port_options)


def mutate_nodes(genes, s: GeneSettings) -> None:
    (_, bias), (_, response), (_, time_constant) = s.floats
    act_rate, act_options, agg_rate, agg_options = s.act_rate, s.act_options, s.agg_rate, s.agg_options
    gates = s.gates
    for ng in genes:
        ng.bias = bias.mutate(ng.bias, "bias")
        ng.response = response.mutate(ng.response, "response")
        if act_rate > 0 and _rnd() < act_rate:
            ng.activation = _choice(act_options)
        if agg_rate > 0 and _rnd() < agg_rate:
            ng.aggregation = _choice(agg_options)
        ng.time_constant = time_constant.mutate(ng.time_constant, "time_constant")
        if ng.memory:
            for name, spec in gates:
                setattr(ng, name, spec.mutate(getattr(ng, name), name))
