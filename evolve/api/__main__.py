"""`python -m tilerunner` is the `tilerunner` command."""

from tilerunner.evolve.commands.cli import main

raise SystemExit(main())
