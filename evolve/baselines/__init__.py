"""The baselines: what no learning gets on the same levels, measured beside every figure for genomes.

- `senses`: what the hand-written controllers see (one sense vector at a fixed view radius);
- `hold_right`: `hold-right`, Right + B held and A whenever a jump may start (no network at all);
- `rules`: `rules`, the best hand-written reactive controller, deciding on foresight;
- `play`: the kernels that play them over levels as the rollout kernel plays a genome;
- `rules_network`: `rules` as a network, linear units fitted to its decisions (the `--seed-rules` seed).

The third baseline, the planner, is the solver of the world (`tilerunner.envs.solver`).
"""
