"""Counts in words for messages: `plural(1, "level")` is "1 level", so no output ever says "1 levels"."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None, *, sep: str = "") -> str:
    """`n` and `word`, in the plural unless `n` is 1: "1 level", "3 levels", "2 species" (`many`).

    `sep` is a thousands separator for the number (`","` gives "1,024 genomes").
    """
    count = f"{n:{sep}}" if sep else str(n)
    return f"{count} {word if n == 1 else (many or word + 's')}"
