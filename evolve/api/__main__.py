"""`python -m tilerunner` is the `tilerunner` command."""

from tilerunner.evolve.commands.entry import main  # Ctrl-C at any moment: one line, 130

raise SystemExit(main())
