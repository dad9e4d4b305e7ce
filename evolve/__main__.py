"""`python -m evolve` is the `tilerunner` command."""

from evolve.cli import main

raise SystemExit(main())
