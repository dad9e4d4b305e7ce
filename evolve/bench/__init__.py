"""The benchmarks behind `tilerunner bench ...`: each times the library through its public API."""
