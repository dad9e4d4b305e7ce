"""Genomes to and from plain JSON-able dicts, exactly (floats survive JSON unchanged).

The dict lists every gene attribute by name, so it is readable and diffable:

    {"key": 7, "fitness": 812.5,
     "nodes": [{"key": 0, "bias": 0.1, "response": 1.0, "activation": "sigmoid",
                "aggregation": "sum", "time_constant": 1.0, "memory": false, ...}],
     "connections": [{"in": -3, "out": 0, "innovation": 12, "weight": 0.7,
                      "enabled": true, "port": "cell"}]}

`genome_from_dict` checks everything it reads and raises `GenomeFormatError` (one
line) for anything wrong, so a damaged replay file cannot build a broken genome.
"""

from __future__ import annotations

from typing import Any

from tilerunner.agent.functions import UnsupportedFunctionError, check_supported
from tilerunner.agent.genome import PORTS, TileConnectionGene, TileGenome, TileNodeGene
from tilerunner.evolve.runs.json_fields import FieldReader, FormatError


class GenomeFormatError(FormatError):
    """A genome dict that does not describe a valid genome; the message says what and where."""


_read = FieldReader(GenomeFormatError)


def _attribute_names(gene_type) -> list[str]:
    return [a.name for a in gene_type._gene_attributes + gene_type._memory_attributes]


_NODE_FLOATS = {"bias", "response", "time_constant", "input_gate_bias", "forget_gate_bias", "output_gate_bias"}


def genome_to_dict(genome: TileGenome, keep_order: bool = False) -> dict[str, Any]:
    """A JSON-able dict with every node and connection gene of `genome` (see the module docstring).

    Genes are listed by key, for people; with `keep_order`, in the genome's own order, which
    neat-python's mutations depend on (checkpoints keep it, so a resumed run stays the same run).
    """
    nodes = []
    for key in genome.nodes if keep_order else sorted(genome.nodes):
        gene = genome.nodes[key]
        entry: dict[str, Any] = {"key": int(key)}
        for name in _attribute_names(TileNodeGene):
            entry[name] = getattr(gene, name)
        entry["memory"] = bool(getattr(gene, "memory", False))
        nodes.append(entry)
    connections = []
    for key in genome.connections if keep_order else sorted(genome.connections):
        gene = genome.connections[key]
        connections.append(
            {
                "in": int(key[0]),
                "out": int(key[1]),
                "innovation": int(gene.innovation),
                "weight": gene.weight,
                "enabled": bool(gene.enabled),
                "port": getattr(gene, "port", "cell"),
            }
        )
    fitness = genome.fitness
    return {
        "key": genome.key,
        "fitness": None if fitness is None else float(fitness),
        "nodes": nodes,
        "connections": connections,
    }


def genome_from_dict(data: Any, genome_config=None) -> TileGenome:
    """Rebuild a `TileGenome` from `genome_to_dict` output; `GenomeFormatError` if it is not valid.

    With a `genome_config`, also checks the genome fits it: the output nodes exist and
    connections only use the config's input keys and existing nodes.
    """
    key = _read.get(data, "key", "int|str|null", "genome")
    fitness = _read.get(data, "fitness", "number|null", "genome")
    raw_nodes = _read.get(data, "nodes", "list", "genome")
    raw_conns = _read.get(data, "connections", "list", "genome")
    genome = TileGenome(key)
    genome.fitness = None if fitness is None else float(fitness)
    for n, entry in enumerate(raw_nodes):
        where = f"genome.nodes[{n}]"
        node_key = _read.get(entry, "key", "int", where)
        if node_key < 0:
            raise GenomeFormatError(f"{where}.key: node keys are >= 0 (inputs are not nodes), got {node_key}")
        if node_key in genome.nodes:
            raise GenomeFormatError(f"{where}.key: duplicate node {node_key}")
        gene = TileNodeGene(node_key, memory=_read.get(entry, "memory", "bool", where))
        for name in _attribute_names(TileNodeGene):
            if name in _NODE_FLOATS:
                setattr(gene, name, float(_read.get(entry, name, "number", where)))
            else:
                setattr(gene, name, _read.get(entry, name, "str", where))
        try:
            check_supported("activation", [gene.activation])
            check_supported("aggregation", [gene.aggregation])
        except UnsupportedFunctionError as exc:
            raise GenomeFormatError(f"{where}: {exc}") from None
        genome.nodes[node_key] = gene
    for n, entry in enumerate(raw_conns):
        where = f"genome.connections[{n}]"
        i = _read.get(entry, "in", "int", where)
        o = _read.get(entry, "out", "int", where)
        if o < 0:
            raise GenomeFormatError(f"{where}.out: a connection cannot end at an input ({o})")
        if o not in genome.nodes:
            raise GenomeFormatError(f"{where}.out: no node {o}")
        if i >= 0 and i not in genome.nodes:
            raise GenomeFormatError(f"{where}.in: no node {i}")
        if (i, o) in genome.connections:
            raise GenomeFormatError(f"{where}: duplicate connection {i} -> {o}")
        gene = TileConnectionGene((i, o), innovation=_read.get(entry, "innovation", "int", where))
        gene.weight = float(_read.get(entry, "weight", "number", where))
        gene.enabled = _read.get(entry, "enabled", "bool", where)
        gene.port = _read.get(entry, "port", "str", where)
        if gene.port not in PORTS:
            raise GenomeFormatError(f"{where}.port: {gene.port!r} is not one of {', '.join(PORTS)}")
        genome.connections[(i, o)] = gene
    if genome_config is not None:
        check_fits(genome, genome_config)
    return genome


def check_fits(genome: TileGenome, genome_config) -> None:
    """Raise `GenomeFormatError` unless `genome` has the config's outputs and only its inputs."""
    missing = [k for k in genome_config.output_keys if k not in genome.nodes]
    if missing:
        raise GenomeFormatError(
            f"genome does not fit its config: output node {missing[0]} is missing"
            f" (the config has {genome_config.num_outputs} outputs)"
        )
    inputs = set(genome_config.input_keys)
    for i, o in genome.connections:
        if i < 0 and i not in inputs:
            raise GenomeFormatError(
                f"genome does not fit its config: connection {i} -> {o} uses input {i},"
                f" but the config has {genome_config.num_inputs} inputs"
            )
    if genome.memory_nodes() and not genome_config.memory_cells:
        raise GenomeFormatError("genome does not fit its config: it has memory cells but memory_cells is off")
