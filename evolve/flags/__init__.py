"""The flag types and flags that `tilerunner`'s commands and its benchmarks share (`types`)."""
