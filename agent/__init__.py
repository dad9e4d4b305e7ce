"""The evolved brain: NEAT genomes with optional LSTM memory cells, compiled to Numba networks.

- `TileGenome`: neat-python's DefaultGenome plus optional memory cells (`agent.genome`).
- `compile(genome, config) -> CompiledNetwork`: flat arrays and Numba kernels (`agent.compile`,
  `agent.kernels`), equal to `neat.nn.RecurrentNetwork` where they overlap.
- `genome_to_dict` / `genome_from_dict`: exact JSON round trip (`agent.serialize`).
"""

from agent.compile import CompiledNetwork, compile_population, pack
from agent.compile import compile_genome as compile  # noqa: A001  (the name the design uses)
from agent.functions import ACTIVATIONS, AGGREGATIONS, UnsupportedFunctionError
from agent.genome import PORTS, TileGenome
from agent.serialize import GenomeFormatError, genome_from_dict, genome_to_dict

__all__ = [
    "ACTIVATIONS", "AGGREGATIONS", "PORTS", "CompiledNetwork", "GenomeFormatError", "TileGenome",
    "UnsupportedFunctionError", "compile", "compile_population", "genome_from_dict", "genome_to_dict",
    "pack",
]
