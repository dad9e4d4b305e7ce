"""The evolved brain: NEAT genomes with optional LSTM memory cells, compiled to Numba networks.

- `TileGenome`: neat-python's DefaultGenome plus optional memory cells (`tilerunner.agent.genome`).
- `compile(genome, config) -> CompiledNetwork`: flat arrays and Numba kernels
  (`tilerunner.agent.compiler`, `tilerunner.agent.kernels`), equal to `neat.nn.RecurrentNetwork`
  where they overlap. `compile_arrays` gives the bare arrays, `compile_population` many packed.
"""

from tilerunner.agent.compiler import CompiledNetwork, compile_arrays, compile_genome, compile_population, pack
from tilerunner.agent.functions import ACTIVATIONS, AGGREGATIONS, UnsupportedFunctionError
from tilerunner.agent.genome import PORTS, TileGenome

compile = compile_genome  # noqa: A001  (the name the design uses; the module is `compiler`)

__all__ = [
    "ACTIVATIONS",
    "AGGREGATIONS",
    "PORTS",
    "CompiledNetwork",
    "TileGenome",
    "UnsupportedFunctionError",
    "compile",
    "compile_arrays",
    "compile_genome",
    "compile_population",
    "pack",
]
