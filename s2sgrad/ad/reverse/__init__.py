"""Reverse mode: the backward statements of the primal trace (builder.py)."""
