"""Leaf utilities every layer may import: boards, errors, the CLI contract, files, subprocesses, progress."""
