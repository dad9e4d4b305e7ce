"""The evolved brain: NEAT genomes with optional LSTM memory cells, compiled to Numba networks."""
