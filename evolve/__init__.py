"""Everything that uses the world (`tilerunner.envs`) and the brain (`tilerunner.agent`), in rooms:

- `core`: the evolution library: episode settings and fitness, fused Numba rollouts, outcomes,
  the population driver (`Evolution`), neat configs, frame-by-frame playback;
- `runs`: runs and what they leave on disk: the generation loop (`Run`, `evolve`), run folders,
  replay files, genome JSON, stats files, and the one validator every JSON file goes through;
- `viewer`: the pygame viewer, its panels, network layout and chart, and human play;
- `commands`: the `tilerunner` command line, one module per command;
- `bench`: the benchmarks (`tilerunner bench ...`) and their tasks.

The library (`core`, `runs`) imports none of viewer, commands or bench; the viewer does not
import the commands.
"""
