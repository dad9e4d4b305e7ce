"""The evolved brain: NEAT genomes with optional LSTM memory cells, compiled to Numba networks.

- `TileGenome`: neat-python's DefaultGenome plus optional memory cells (`tilerunner.agent.genome`).
- `compile(genome, config) -> CompiledNetwork`: flat arrays and Numba kernels
  (`tilerunner.agent.compiler`, `tilerunner.agent.kernels`), equal to `neat.nn.RecurrentNetwork`
  where they overlap. `compile_arrays` gives the bare arrays, `compile_genomes` many genomes' in one
  call, `compile_population` many packed into one set.

Three ways to breed, one kind of genome
---------------------------------------
- stock: neat-python's own `DefaultGenome` code (`StockTileGenome`, `load_config(stock_neat=True)`);
  the reference, kept to check the others against and to time them.
- exact (`breeding = exact`, the default): `TileGenome.configure_crossover` and `mutate` call
  `tilerunner.agent.breeding`. Draw for draw equal to stock: the same calls to `random`, in the same
  order, with the same arguments, the same float arithmetic and the same genes in the same dict order,
  so from the same seed the population is bit for bit stock's (tests/test_fast_neat.py), and with
  `memory_cells = false` bit for bit `neat.DefaultGenome`'s (tests/test_genome.py).
- batch (`breeding = batch`): `tilerunner.agent.batch_breeding` breeds a generation at a time in Numba,
  by neat-python's rules and rates in neat-python's order (structure, then every gene's attributes),
  drawing from NumPy seeded from `random`: repeatable from the seed and equal to exact in
  distribution, never draw for draw (tests/test_batch_breeding.py). Its children keep their genes
  packed until something asks for `nodes` or `connections` (`TileGenome.keep_packed`).

Whichever way it was bred (or loaded from JSON), a genome under its genome config satisfies these
invariants, which tests/genome_invariants.py checks for the tests of all three:

1. Nodes: `nodes[key].key == key`, keys are ints; the outputs 0 .. num_outputs-1 are all there;
   every other node (hidden) has a key >= num_outputs and never an input's (-1 .. -num_inputs).
   The config's `node_indexer` hands each hidden key out once a run, past batch breeding's too.
2. Connections: `connections[(i, o)].key == (i, o)`, ints; i is an input or a node of the genome,
   o a node of the genome (an input is never a target); with `feed_forward` they close no cycle.
3. Innovation numbers: positive ints, distinct within a genome, from the config's `InnovationTracker`
   (the same structural mutation in one generation gets the same number in every genome); crossover
   matches genes by them.
4. Values: `enabled` is a bool; weight, bias, response and gate biases are floats within their
   configured minimum and maximum; activation and aggregation are functions the kernels have.
5. Memory cells: `memory` is a bool, False on every node when `memory_cells` is off; an ordinary
   node's gate biases are 0.0 (they neither mutate nor count in the distance); a connection's `port`
   is one of `PORTS`, always `cell` when `memory_cells` is off, and ignored when its target is an
   ordinary node.

Every genome compiles by the one compiler, from gene objects or from batch breeding's packed genes
alike (`tilerunner.agent.compiler`).
"""

from tilerunner.agent.compiler import (
    CompiledNetwork,
    compile_arrays,
    compile_genome,
    compile_genomes,
    compile_population,
    pack,
)
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
    "compile_genomes",
    "compile_population",
    "pack",
]
