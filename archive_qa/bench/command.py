"""`archive-qa bench`: its options and the run over sizes (each size measured in a fresh process by steps.py)."""

from archive_qa.bench.steps import add_options, run_bench

__all__ = ["add_options", "run_bench"]
