"""Reverse mode: the backward statements of the primal trace, with a slot for each
overwritten value (builder.py); the slots filled with pushes and pops
(restores.py); the function grad and value_and_grad return (assemble.py)."""
