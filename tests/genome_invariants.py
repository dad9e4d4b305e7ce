"""The genome invariants (`tilerunner.agent`'s docstring) as a check, for the tests of every breeding path."""

from __future__ import annotations

from tilerunner.agent.functions import check_supported
from tilerunner.agent.genome import PORTS, TileNodeGene


def check_genome(genome, genome_config) -> None:
    """Raise ValueError naming the first of the genome invariants (`tilerunner.agent`'s docstring) that `genome`
    breaks under `genome_config` (a TileGenome's neat genome config). The tests of every breeding path call it."""
    gc = genome_config
    where = f"genome {genome.key}"
    inputs, outputs = set(gc.input_keys), set(gc.output_keys)
    floats = ["bias", "response"] + [a.name for a in TileNodeGene._memory_attributes]
    for key, node in genome.nodes.items():
        if type(key) is not int or node.key != key:
            raise ValueError(f"{where}: node {key!r} holds a gene keyed {node.key!r} (keys are ints, gene.key the key)")
        if key in inputs or (key not in outputs and key < gc.num_outputs):
            raise ValueError(f"{where}: node {key} has an input's or an output's key")
        if type(node.memory) is not bool or (node.memory and not gc.memory_cells):
            raise ValueError(f"{where}: node {key} memory={node.memory!r} with memory_cells={gc.memory_cells}")
        for name in floats:
            value = getattr(node, name)
            neutral = not node.memory and name.endswith("gate_bias")
            if type(value) is not float or (neutral and value != 0.0):
                raise ValueError(f"{where}: node {key} {name}={value!r} (a float; 0.0 on an ordinary node's gates)")
            if not neutral and not getattr(gc, f"{name}_min_value") <= value <= getattr(gc, f"{name}_max_value"):
                raise ValueError(f"{where}: node {key} {name}={value!r} is outside its configured range")
        check_supported("activation", [node.activation])
        check_supported("aggregation", [node.aggregation])
    missing = outputs - set(genome.nodes)
    if missing:
        raise ValueError(f"{where}: output node {min(missing)} is missing")
    innovations: dict[int, tuple] = {}
    for key, conn in genome.connections.items():
        i, o = key if type(key) is tuple and len(key) == 2 else (None, None)
        if conn.key != key or type(i) is not int or type(o) is not int:
            raise ValueError(f"{where}: connection {key!r} holds a gene keyed {conn.key!r} (keys are (int, int))")
        if not (i in inputs or i in genome.nodes) or o not in genome.nodes:
            raise ValueError(f"{where}: connection {key} joins a node the genome lacks (or enters an input)")
        if type(conn.innovation) is not int or conn.innovation < 1 or conn.innovation in innovations:
            other = innovations.get(conn.innovation)
            raise ValueError(f"{where}: connection {key} has innovation {conn.innovation!r} (also {other})")
        innovations[conn.innovation] = key
        if type(conn.enabled) is not bool or type(conn.weight) is not float:
            raise ValueError(f"{where}: connection {key} enabled={conn.enabled!r} weight={conn.weight!r}")
        if not gc.weight_min_value <= conn.weight <= gc.weight_max_value:
            raise ValueError(f"{where}: connection {key} weight {conn.weight} is outside its configured range")
        if conn.port not in (PORTS if gc.memory_cells else ("cell",)):
            raise ValueError(f"{where}: connection {key} port={conn.port!r} with memory_cells={gc.memory_cells}")
    if gc.feed_forward:
        _check_acyclic(where, list(genome.connections))


def _check_acyclic(where: str, links: list[tuple[int, int]]) -> None:
    """ValueError unless the links (enabled or not) form no cycle, as a feed-forward genome's must."""
    into: dict[int, int] = {}
    out: dict[int, list[int]] = {}
    for i, o in links:
        into[o] = into.get(o, 0) + 1
        out.setdefault(i, []).append(o)
    ready = [n for n in out if into.get(n, 0) == 0]
    seen = 0
    while ready:
        for o in out.get(ready.pop(), ()):
            seen += 1
            into[o] -= 1
            if into[o] == 0:
                ready.append(o)
    if seen != len(links):
        raise ValueError(f"{where}: feed_forward, but its connections close a cycle")
