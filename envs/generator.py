"""Placeholder replaced by the generator helper."""
DEFAULT_DIFFICULTY = 3
MAX_DIFFICULTY = 10


def generate_text(seed: int, difficulty: int = DEFAULT_DIFFICULTY) -> str:
    raise NotImplementedError
