"""`BenchError`: a benchmark that cannot run here (say, no window can open); the command prints it as one line."""

from __future__ import annotations


class BenchError(Exception):
    """Why a benchmark could not run, in one line (`tilerunner bench` exits with code 2)."""
