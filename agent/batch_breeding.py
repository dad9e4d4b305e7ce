"""Batch breeding: a whole generation's crossover and mutation at once, on packed gene arrays, in Numba.

The exact path (`tilerunner.agent.breeding`) breeds gene by gene in Python because neat-python's
stream of `random` draws must be reproduced one call at a time; profiled, a gene then costs about
a microsecond and a half (`tilerunner bench evolve`), so a population of 3,000 genomes of ~100
genes takes a second a generation whatever else is done. Here the generation's children are
recorded while neat-python's `DefaultReproduction` picks their parents (`open`, then
`TileGenome.configure_crossover` and `mutate` call `record`), and `flush` breeds them all:

1. crossover in one Numba kernel over the parents' packed arrays (`tilerunner.agent.distance`),
   drawing from NumPy's generator seeded from `random`;
2. structural mutations (add/delete node/connection) genome by genome, with neat-python's own
   rules, gene constructors and innovation tracker, drawing from `random`;
3. every gene's attribute mutation, the new genes' included, in a second Numba kernel over the
   final arrays: neat-python mutates a genome's structure first and then every gene it has, so
   the connection an add-node splits is disabled before its `enabled` flag may mutate, and the
   split weight passed on and the old one mutate separately, exactly as `DefaultGenome.mutate` does;
4. the children keep their genes in the final arrays (`TileGenome.keep_packed`): speciation and
   the next generation's breeding read them there (`PackedPool`), evaluation compiles them from
   there (`tilerunner.agent.compiler`, as every genome), and gene objects are made (`unpack`) only for a
   genome something asks about (a champion, a checkpoint).

The rules, rates and their order are neat-python's, so the populations are the same in distribution,
not bit for bit (the docs' batch breeding benchmark gives learning curves and XOR runs both ways,
including the earlier version, which mutated attributes before structure; a test tells the orders apart).
Opt-in: `breeding = batch` in the `[TileGenome]` section (`tilerunner evolve --batch-breeding`).
"""

from __future__ import annotations

import random

import numpy as np
from neat.graphs import creates_cycle
from numba import njit

from tilerunner.agent import breeding
from tilerunner.agent.distance import CODES, KEY_SHIFT, GeneArrays, PackedPool, match_genes, sorted_positions

_KINDS = {"gauss": 0.0, "uniform": 1.0}
_new = object.__new__


def _float_specs(settings: breeding.GeneSettings) -> np.ndarray:
    """(7, 10) settings of the float attributes (weight, bias, response, time_constant, the three gate biases),
    from the `breeding.FloatSettings` the genome settings already read."""
    rows = []
    for name, f in [("weight", settings.weight), *settings.floats, *settings.gates]:
        if f.kind not in _KINDS:
            raise RuntimeError(f"Unknown init_type {f.init_type!r} for {name}_init_type")
        rows.append(
            [f.mutate_rate, f.either_rate, f.power, f.lo, f.hi, _KINDS[f.kind], f.mean, f.stdev, f.init_lo, f.init_hi]
        )
    return np.array(rows, np.float64)


@njit(cache=True, inline="always")
def _mutate_float(value: float, spec: np.ndarray) -> float:
    """`FloatAttribute.mutate_value` with NumPy's draws: nudge, replace, or keep."""
    r = np.random.random()
    if r < spec[0]:
        value = value + np.random.normal(0.0, 1.0) * spec[2]
        return min(max(value, spec[3]), spec[4])
    if r < spec[1]:
        if spec[5] == 0.0:
            return min(max(spec[6] + np.random.normal(0.0, 1.0) * spec[7], spec[3]), spec[4])
        return spec[8] + (spec[9] - spec[8]) * np.random.random()
    return value


@njit(cache=True)
def _cross(g: GeneArrays, first: np.ndarray, second: np.ndarray, seed: int):
    """Child c = crossover of packed genomes first[c] (the fitter) and second[c]: `breeding.crossover`, with
    NumPy's draws (`BaseGene.crossover`: each attribute of a homologous gene from either parent, a gene
    disabled in either parent disabled at 0.75; the fitter parent's disjoint and excess genes)."""
    np.random.seed(seed)
    n = first.size
    node_off = np.zeros(n + 1, np.int64)
    conn_off = np.zeros(n + 1, np.int64)
    for c in range(n):
        a = first[c]
        node_off[c + 1] = node_off[c] + g.node_off[a + 1] - g.node_off[a]
        conn_off[c + 1] = conn_off[c] + g.conn_off[a + 1] - g.conn_off[a]
    m, k = node_off[n], conn_off[n]
    node_key = np.empty(m, np.int64)
    node_float = np.empty((m, 6))
    node_act = np.empty(m, np.int64)
    node_agg = np.empty(m, np.int64)
    node_memory = np.empty(m, np.bool_)
    conn_key = np.empty(k, np.int64)
    conn_weight = np.empty(k)
    conn_enabled = np.empty(k, np.bool_)
    conn_port = np.empty(k, np.int64)
    conn_innov = np.empty(k, np.int64)
    other_conn = np.empty(max(np.max(np.diff(g.conn_off)), 0), np.int64)  # b's gene with each key of a's, or -1
    other_node = np.empty(max(np.max(np.diff(g.node_off)), 0), np.int64)
    for c in range(n):
        a, b = first[c], second[c]
        out = conn_off[c]
        lo, hi = g.conn_off[a], g.conn_off[a + 1]
        match_genes(g.conn_key, g.conn_sorted, lo, hi, g.conn_off[b], g.conn_off[b + 1], other_conn[: hi - lo])
        for i in range(lo, hi):
            w, e, p = g.conn_weight[i], g.conn_enabled[i], g.conn_port[i]
            j = other_conn[i - lo]
            if j >= 0 and g.conn_innov[j] == g.conn_innov[i]:  # homologous: the same gene by innovation
                if np.random.random() <= 0.5:
                    w = g.conn_weight[j]
                e2 = g.conn_enabled[j]
                if np.random.random() <= 0.5:
                    e = e2
                if not g.conn_enabled[i] or not e2:
                    if np.random.random() < 0.75:
                        e = False
                if p != g.conn_port[j] and np.random.random() <= 0.5:
                    p = g.conn_port[j]
            conn_key[out], conn_innov[out] = g.conn_key[i], g.conn_innov[i]
            conn_weight[out], conn_enabled[out], conn_port[out] = w, e, p
            out += 1
        out = node_off[c]
        lo, hi = g.node_off[a], g.node_off[a + 1]
        match_genes(g.node_key, g.node_sorted, lo, hi, g.node_off[b], g.node_off[b + 1], other_node[: hi - lo])
        for i in range(lo, hi):
            node_float[out] = g.node_float[i]
            act, agg = g.node_act[i], g.node_agg[i]
            j = other_node[i - lo]
            if j >= 0:
                for col in range(2):  # bias, response
                    if np.random.random() <= 0.5:
                        node_float[out, col] = g.node_float[j, col]
                if np.random.random() <= 0.5:
                    act = g.node_act[j]
                if np.random.random() <= 0.5:
                    agg = g.node_agg[j]
                if np.random.random() <= 0.5:
                    node_float[out, 2] = g.node_float[j, 2]
                for col in range(3, 6):
                    if node_float[out, col] != g.node_float[j, col] and np.random.random() <= 0.5:
                        node_float[out, col] = g.node_float[j, col]
            node_key[out], node_act[out], node_agg[out] = g.node_key[i], act, agg
            node_memory[out] = g.node_memory[i]
            out += 1
    return (
        node_off,
        node_key,
        node_float,
        node_act,
        node_agg,
        node_memory,
        conn_off,
        conn_key,
        conn_weight,
        conn_enabled,
        conn_port,
        conn_innov,
    )


@njit(cache=True)
def _mutate_attributes(
    g: GeneArrays,
    mutate: np.ndarray,
    seed: int,
    spec: np.ndarray,
    enabled_rates: np.ndarray,
    port_rate: float,
    ports: np.ndarray,
    act_rate: float,
    acts: np.ndarray,
    agg_rate: float,
    aggs: np.ndarray,
) -> None:
    """Every gene of each child c with mutate[c], in place: the attribute half of `breeding.mutate`, with NumPy's
    draws. Run after the structural mutations, on the final genes, as `DefaultGenome.mutate` runs it."""
    np.random.seed(seed)
    for c in range(mutate.size):
        if not mutate[c]:
            continue
        for i in range(g.conn_off[c], g.conn_off[c + 1]):
            g.conn_weight[i] = _mutate_float(g.conn_weight[i], spec[0])
            e = g.conn_enabled[i]
            rate = enabled_rates[0] if e else enabled_rates[1]
            if rate > 0 and np.random.random() < rate:
                g.conn_enabled[i] = np.random.random() < 0.5
            if ports.size and port_rate > 0 and np.random.random() < port_rate:
                g.conn_port[i] = ports[np.random.randint(0, ports.size)]
        for i in range(g.node_off[c], g.node_off[c + 1]):
            f = g.node_float[i]
            f[0] = _mutate_float(f[0], spec[1])
            f[1] = _mutate_float(f[1], spec[2])
            if act_rate > 0 and np.random.random() < act_rate:
                g.node_act[i] = acts[np.random.randint(0, acts.size)]
            if agg_rate > 0 and np.random.random() < agg_rate:
                g.node_agg[i] = aggs[np.random.randint(0, aggs.size)]
            f[2] = _mutate_float(f[2], spec[3])
            if g.node_memory[i]:
                for col in range(3, 6):
                    f[col] = _mutate_float(f[col], spec[col + 1])


class BatchBreeder:
    """Collects one generation's children (`record`) and breeds them together (`flush`)."""

    def __init__(self, pool: PackedPool | None) -> None:
        self.pool = pool or PackedPool()
        self.children: list = []
        self.parents: list[tuple] = []  # (fitter parent, other parent) of each child
        self.mutate: list[bool] = []

    def record(self, child, genome1, genome2) -> None:
        """Child is to be the crossover of genome1 and genome2 (`configure_crossover`, deferred)."""
        fitter = genome1.fitness > genome2.fitness
        self.children.append(child)
        self.parents.append((genome1, genome2) if fitter else (genome2, genome1))
        self.mutate.append(False)

    def record_mutation(self, child) -> bool:
        """Child is to be mutated; False if it was not recorded (then it mutates now, the exact way)."""
        if self.children and self.children[-1] is child:
            self.mutate[-1] = True
            return True
        return False

    def flush(self, config) -> PackedPool:
        """Breed every recorded child; returns a pool holding the parents and the children, packed."""
        if not self.children:
            return self.pool
        parents = list({id(g): g for pair in self.parents for g in pair}.values())
        packed = self.pool.pack(parents)
        at = {id(g): i for i, g in enumerate(parents)}
        first = np.array([at[id(a)] for a, _ in self.parents], np.int64)
        second = np.array([at[id(b)] for _, b in self.parents], np.int64)
        settings = breeding.GeneSettings(config)
        cross_seed, mutate_seed = random.getrandbits(32), random.getrandbits(32)
        children = _Children(_cross(packed, first, second, cross_seed))
        for c, mutate in enumerate(self.mutate):
            if mutate:
                _mutate_structure(children, c, config, settings)
        genes = children.assemble()
        _mutate_genes(genes, np.array(self.mutate, np.bool_), mutate_seed, settings)
        for c, child in enumerate(self.children):  # gene objects only when asked for (`TileGenome.nodes`)
            child.keep_packed(genes, c, config)
        for i, parent in enumerate(parents):  # elites live on: point them at the parents' arrays, so each
            if parent.packed_genes() is not None:  # generation's arrays are freed once its genomes are gone
                parent.keep_packed(packed, i, config)
        pool = PackedPool()
        pool.add(parents, packed)
        pool.add(self.children, genes)
        return pool


def _mutate_genes(genes: GeneArrays, mutate: np.ndarray, seed: int, settings: breeding.GeneSettings) -> None:
    """Mutate every gene's attributes of the children marked in `mutate` (`_mutate_attributes`), with `settings`."""
    code = CODES.__getitem__
    ports = np.array([code(p) for p in settings.port_options] if settings.memory else [], np.int64)
    acts = np.array([code(a) for a in settings.act_options], np.int64)
    aggs = np.array([code(a) for a in settings.agg_options], np.int64)
    _mutate_attributes(
        genes,
        mutate,
        seed,
        _float_specs(settings),
        np.array([settings.enabled_if_true, settings.enabled_if_false]),
        float(settings.port_rate),
        ports,
        float(settings.act_rate),
        acts,
        float(settings.agg_rate),
        aggs,
    )


class _Edit:
    """One child's structural changes: its genes by key (a position in the kernel's arrays, or a new gene)."""

    __slots__ = ("nodes", "conns", "gone_nodes", "gone_conns", "new")

    def __init__(self, nodes: dict, conns: dict) -> None:
        self.nodes, self.conns = nodes, conns
        self.gone_nodes: list[int] = []  # positions of the kernel's genes deleted
        self.gone_conns: list[int] = []
        self.new: list = []  # genes added (some may be deleted again)

    def delete_node(self, key: int) -> None:
        gene = self.nodes.pop(key)
        if type(gene) is int:
            self.gone_nodes.append(gene)

    def delete_connection(self, key: tuple) -> None:
        gene = self.conns.pop(key)
        if type(gene) is int:
            self.gone_conns.append(gene)

    def added(self) -> tuple[list, list]:
        """The new nodes and connections still in the genome, in the order they were added."""
        nodes = [g for g in self.new if not isinstance(g.key, tuple) and self.nodes.get(g.key) is g]
        conns = [g for g in self.new if isinstance(g.key, tuple) and self.conns.get(g.key) is g]
        return nodes, conns


_CROSSED = tuple(name for name in GeneArrays._fields if not name.endswith("_sorted"))  # what `_cross` returns


class _Children:
    """The children's arrays after the kernel, and what structural mutation changed of each child."""

    def __init__(self, arrays: tuple) -> None:
        for name, array in zip(_CROSSED, arrays):  # `_cross`'s arrays, named as in `GeneArrays`
            setattr(self, name, array)
        self.edits: dict[int, _Edit] = {}
        self._lists: tuple | None = None

    def edit(self, c: int) -> _Edit:
        """Child c's genes as dicts of key -> position in the arrays, to change its structure."""
        if self._lists is None:  # the keys as Python lists, once for every child
            codes = self.conn_key
            self._lists = (
                self.node_off.tolist(),
                self.node_key.tolist(),
                self.conn_off.tolist(),
                list(zip((codes >> 32).tolist(), (codes & (KEY_SHIFT - 1)).tolist())),
            )
        node_off, node_key, conn_off, conn_key = self._lists
        lo, hi = node_off[c], node_off[c + 1]
        nodes = dict(zip(node_key[lo:hi], range(lo, hi)))
        lo, hi = conn_off[c], conn_off[c + 1]
        edit = self.edits[c] = _Edit(nodes, dict(zip(conn_key[lo:hi], range(lo, hi))))
        return edit

    def assemble(self) -> GeneArrays:
        """The final arrays: each child's surviving genes in order, then the genes structural mutation added."""
        added = {c: e.added() for c, e in self.edits.items()}
        node_idx, node_off, new_nodes = self._order(
            self.node_off, {c: e.gone_nodes for c, e in self.edits.items()}, {c: a[0] for c, a in added.items()}
        )
        conn_idx, conn_off, new_conns = self._order(
            self.conn_off, {c: e.gone_conns for c, e in self.edits.items()}, {c: a[1] for c, a in added.items()}
        )
        extra_nodes, extra_conns = _node_columns(new_nodes), _conn_columns(new_conns)

        def cat(column: np.ndarray, extra: np.ndarray, index: np.ndarray) -> np.ndarray:
            return np.concatenate((column, extra))[index]

        node_key = cat(self.node_key, extra_nodes[0], node_idx)
        conn_key = cat(self.conn_key, extra_conns[0], conn_idx)
        return GeneArrays(
            node_off,
            node_key,
            sorted_positions(node_off, node_key),
            cat(self.node_float, extra_nodes[1], node_idx),
            cat(self.node_act, extra_nodes[2], node_idx),
            cat(self.node_agg, extra_nodes[3], node_idx),
            cat(self.node_memory, extra_nodes[4], node_idx),
            conn_off,
            conn_key,
            sorted_positions(conn_off, conn_key),
            cat(self.conn_weight, extra_conns[1], conn_idx),
            cat(self.conn_enabled, extra_conns[2], conn_idx),
            cat(self.conn_port, extra_conns[3], conn_idx),
            cat(self.conn_innov, extra_conns[4], conn_idx),
        )

    @staticmethod
    def _order(off: np.ndarray, gone: dict[int, list], added: dict[int, list]) -> tuple[np.ndarray, np.ndarray, list]:
        """(positions of the final genes, their offsets, the new genes): positions past the kernel's arrays
        are the new genes, in order; each child's new genes come after its surviving old ones."""
        sizes = np.diff(off)
        keep = np.ones(int(off[-1]), np.bool_)
        base = int(off[-1])
        new: list = []
        owners: list[int] = []
        for c in sorted(gone):
            keep[gone[c]] = False
            new += added[c]
            owners += [c] * len(added[c])
            sizes[c] += len(added[c]) - len(gone[c])
        final_off = np.zeros(sizes.size + 1, np.int64)
        np.cumsum(sizes, out=final_off[1:])
        position = np.flatnonzero(keep)
        if not new:
            return position, final_off, new
        owner = np.concatenate(
            (np.repeat(np.arange(sizes.size, dtype=np.int64), np.diff(off))[keep], np.array(owners, np.int64))
        )
        position = np.concatenate((position, np.arange(base, base + len(new), dtype=np.int64)))
        order = np.lexsort((position, owner))
        return position[order], final_off, new


def _node_columns(genes: list) -> tuple:
    code = CODES.__getitem__
    return (
        np.array([g.key for g in genes], np.int64).reshape(-1),
        np.array(
            [
                [g.bias, g.response, g.time_constant, g.input_gate_bias, g.forget_gate_bias, g.output_gate_bias]
                for g in genes
            ],
            np.float64,
        ).reshape(-1, 6),
        np.array([code(g.activation) for g in genes], np.int64).reshape(-1),
        np.array([code(g.aggregation) for g in genes], np.int64).reshape(-1),
        np.array([g.memory for g in genes], np.bool_).reshape(-1),
    )


def _conn_columns(genes: list) -> tuple:
    return (
        np.array([g.key[0] * KEY_SHIFT + g.key[1] for g in genes], np.int64).reshape(-1),
        np.array([g.weight for g in genes], np.float64).reshape(-1),
        np.array([g.enabled for g in genes], np.bool_).reshape(-1),
        np.array([CODES[g.port] for g in genes], np.int64).reshape(-1),
        np.array([g.innovation for g in genes], np.int64).reshape(-1),
    )


def _mutate_structure(children: _Children, c: int, config, settings: breeding.GeneSettings) -> None:
    """neat-python's structural mutations of child c (`DefaultGenome.mutate`'s first half), on its arrays.

    The same rules and draws from `random` as `DefaultGenome.mutate_add_node` and the rest (TileGenome's
    memory cells included); genes are created by the config's gene classes, unmutated: every gene, new
    or old, is mutated afterwards (`_mutate_attributes`), as neat-python mutates after changing the structure.
    """
    rates = (config.node_add_prob, config.node_delete_prob, config.conn_add_prob, config.conn_delete_prob)
    if config.single_structural_mutation:
        div = max(1, sum(rates))
        r = random.random()
        bounds = [0.0] + np.cumsum(rates).tolist()
        todo = [bounds[k] / div <= r < bounds[k + 1] / div for k in range(4)]
    else:
        todo = [random.random() < rate for rate in rates]
    if not any(todo):
        return
    edit = children.edit(c)
    if todo[0]:
        _add_node(children, edit, config, settings)
    if todo[1]:
        available = [k for k in edit.nodes if k not in config.output_keys]
        if available:  # `DefaultGenome.mutate_delete_node`: a random non-output node and its connections
            gone = random.choice(available)
            for key in [k for k in edit.conns if gone in k]:
                edit.delete_connection(key)
            edit.delete_node(gone)
    if todo[2]:
        _add_connection(children, edit, config, settings)
    if todo[3] and edit.conns:
        edit.delete_connection(random.choice(list(edit.conns)))


def _add_node(children: _Children, edit: _Edit, config, settings: breeding.GeneSettings) -> None:
    """`TileGenome.mutate_add_node`: split a connection with a new node (a memory cell, sometimes).

    The split connection is disabled and its weight and port passed on before any attribute mutates, so the
    old and the new copy then mutate separately (and the disabled one may be enabled again), as in neat-python.
    """
    if not edit.conns:
        if config.check_structural_mutation_surer():
            _add_connection(children, edit, config, settings)
        return
    memory = config.memory_cells and random.random() < config.memory_cell_prob
    key = random.choice(list(edit.conns))
    split = edit.conns[key]
    if type(split) is int:
        children.conn_enabled[split] = False
        weight, port = float(children.conn_weight[split]), CODES.names[children.conn_port[split]]
    else:
        split.enabled = False
        weight, port = split.weight, split.port
    new_id = config.get_new_node_key(edit.nodes)
    node = _new_node(settings, config.node_gene_type, new_id, memory)
    node.bias = 0.0
    i, o = key
    tracker = config.innovation_tracker
    into = _connection(settings, config, i, new_id, tracker.get_innovation_number(i, new_id, "add_node_in"), 1.0)
    out = _connection(settings, config, new_id, o, tracker.get_innovation_number(new_id, o, "add_node_out"), weight)
    if memory:
        into.port, out.port = "cell", port
    edit.nodes[new_id] = node
    edit.conns[into.key], edit.conns[out.key] = into, out
    edit.new += [node, into, out]


def _connection(settings: breeding.GeneSettings, config, i: int, o: int, innovation: int, weight: float):
    """`DefaultGenome.add_connection`'s gene: initialised, then given its weight, enabled."""
    cg = _new_connection(settings, config.connection_gene_type, (i, o), innovation)
    cg.weight, cg.enabled = weight, True
    return cg


def _new_connection(s: breeding.GeneSettings, conn_type: type, key: tuple, innovation: int):
    """A connection gene as `TileConnectionGene(key, innovation).init_attributes(config)` makes it, draw for draw."""
    cg = _new(conn_type)
    cg.key, cg.innovation = key, innovation
    cg.weight = s.weight.init("weight")
    cg.enabled = _init_bool(s.enabled_default, "enabled")
    cg.port = "cell" if s.port_default is None else _init_string(s.port_default, s.port_options)
    return cg


def _new_node(s: breeding.GeneSettings, node_type: type, key: int, memory: bool):
    """A node gene as `TileNodeGene(key, memory).init_attributes(config)` makes it, draw for draw."""
    ng = _new(node_type)
    ng.key, ng.memory = key, memory
    (_, bias), (_, response), (_, time_constant) = s.floats
    ng.bias = bias.init("bias")
    ng.response = response.init("response")
    ng.activation = _init_string(s.act_default, s.act_options)
    ng.aggregation = _init_string(s.agg_default, s.agg_options)
    ng.time_constant = time_constant.init("time_constant")
    for name, spec in s.gates:
        setattr(ng, name, spec.init(name) if memory else 0.0)
    return ng


def _init_bool(default: str, name: str) -> bool:
    """`BoolAttribute.init_value`."""
    if default in ("1", "on", "yes", "true"):
        return True
    if default in ("0", "off", "no", "false"):
        return False
    if default in ("random", "none"):
        return bool(random.random() < 0.5)
    raise RuntimeError(f"Unknown default value {default!r} for {name}")


def _init_string(default: str, options: list) -> str:
    """`StringAttribute.init_value`."""
    return random.choice(options) if default.lower() in ("none", "random") else default


def _add_connection(children: _Children, edit: _Edit, config, settings: breeding.GeneSettings) -> None:
    """`DefaultGenome.mutate_add_connection`: a new connection between two random nodes, if allowed."""
    out_node = random.choice(list(edit.nodes))
    outputs = config.output_keys
    # neat-python chooses among (nodes - outputs) | inputs; inputs are negative, nodes not, so they never overlap
    hidden = [k for k in edit.nodes if k not in outputs]
    inputs = config.input_keys
    r = random.randrange(len(hidden) + len(inputs))
    in_node = inputs[r] if r < len(inputs) else hidden[r - len(inputs)]
    key = (in_node, out_node)
    if key in edit.conns:
        if config.check_structural_mutation_surer():
            gene = edit.conns[key]
            if type(gene) is int:
                children.conn_enabled[gene] = True
            else:
                gene.enabled = True
        return
    if in_node in outputs and out_node in outputs:
        return
    if config.feed_forward and creates_cycle(list(edit.conns), key):
        return
    innovation = config.innovation_tracker.get_innovation_number(in_node, out_node, "add_connection")
    cg = _new_connection(settings, config.connection_gene_type, key, innovation)
    edit.conns[key] = cg
    edit.new.append(cg)


def unpack(g: GeneArrays, index: int, node_type: type, conn_type: type) -> tuple[dict, dict]:
    """Packed genome `index` of `g` as gene objects: its (nodes, connections) dicts, in its gene order."""
    names = CODES.names
    lo, hi = int(g.node_off[index]), int(g.node_off[index + 1])
    floats = g.node_float[lo:hi]
    node_rows = zip(
        g.node_key[lo:hi].tolist(),
        g.node_memory[lo:hi].tolist(),
        *floats.T.tolist(),
        [names[a] for a in g.node_act[lo:hi].tolist()],
        [names[a] for a in g.node_agg[lo:hi].tolist()],
    )
    lo, hi = int(g.conn_off[index]), int(g.conn_off[index + 1])
    codes = g.conn_key[lo:hi]
    keys = zip((codes >> 32).tolist(), (codes & (KEY_SHIFT - 1)).tolist())
    conn_rows = zip(
        keys,
        g.conn_innov[lo:hi].tolist(),
        g.conn_weight[lo:hi].tolist(),
        g.conn_enabled[lo:hi].tolist(),
        [names[p] for p in g.conn_port[lo:hi].tolist()],
    )
    new = _new
    nodes: dict = {}
    # attributes set one by one, in the order the gene's own constructor sets them, so the genes share one layout
    for key, memory, bias, response, time_constant, igb, fgb, ogb, act, agg in node_rows:
        gene = new(node_type)
        gene.key, gene.memory, gene.bias, gene.response, gene.activation = key, memory, bias, response, act
        gene.aggregation, gene.time_constant, gene.input_gate_bias = agg, time_constant, igb
        gene.forget_gate_bias, gene.output_gate_bias = fgb, ogb
        nodes[key] = gene
    connections: dict = {}
    for key, innovation, weight, enabled, port in conn_rows:
        gene = new(conn_type)
        gene.key, gene.innovation, gene.weight, gene.enabled, gene.port = key, innovation, weight, enabled, port
        connections[key] = gene
    return nodes, connections
