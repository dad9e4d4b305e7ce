"""The evolution library: episode settings and fitness, fused rollouts, outcomes, the population driver.

No argparse, no pygame, no files: `tilerunner.evolve.runs` keeps runs on disk, the commands print.
"""
