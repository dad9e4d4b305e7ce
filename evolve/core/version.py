"""The installed tilerunner's version, for `tilerunner.__version__` and `tilerunner --version` alike."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """The version pip installed (`0+unknown` when running from sources that were never installed)."""
    try:
        return version("tilerunner")
    except PackageNotFoundError:
        return "0+unknown"
