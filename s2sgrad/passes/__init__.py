"""The optimizer's passes, one module each; ``passes.optimize`` runs them in order.

* ``propagate``: copies, constants (the seed) and repeated right-hand sides forwarded.
* ``simplify``: constant folding, algebraic identities, signs.
* ``broadcasts``: ``np.broadcast_to`` dropped where every reader broadcasts.
* ``loops``: cheap loop values recomputed in the reversed loop instead of stacked.
* ``deadcode``: assignments nobody reads.
* ``temporaries``: single-use negations and temporaries folded into their reader.
* ``lowering``: a first slice update of fresh zeros assigns; reductions as methods.
* ``batching``: per-trip weight-gradient products summed once after the loop.
* ``stacks``: stacks read by iterating them instead of popping.
* ``dtypes``: in float32 / float16 code, Python numbers that would widen to float64 typed.
* ``common``: what they share (shape oracle, purity, reads and stores, liveness).
"""
