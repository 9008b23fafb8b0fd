"""Experiments: experiment files, designs, outcomes, sweeps and their storage, executors, analysis, comparisons."""
