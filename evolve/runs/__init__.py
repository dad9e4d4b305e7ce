"""Runs and what they leave on disk: the generation loop, run folders, replay files, stats files."""
