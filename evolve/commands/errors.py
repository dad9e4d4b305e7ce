"""The one way a command fails because of its input: `UserError`, printed as one line with exit code 2."""

from __future__ import annotations


class UserError(Exception):
    """Something the user asked for that cannot be done; printed as one line, exit code 2."""
