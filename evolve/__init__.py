"""The evolution loop and the `tilerunner` command line."""
