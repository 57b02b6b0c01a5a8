"""Pass 5: clean-ups on the generated function -- the pass list.

``optimize_function`` runs the passes of ``s2sgrad/passes/`` (one module each,
each with unit tests on small trees in ``tests/passes/``), in order:

* ``propagate_copies``: ``grad_t1 = grad_t2`` and ``grad_out = 1.0`` forwarded into
  later reads, constants folded as they go; a pure right-hand side computed twice
  becomes a copy of the first (common subexpressions).
* ``simplify_function``: constant folding and algebraic identities (``g * 1.0``,
  ``0.0 + g``, ``-(-g)``, ``-1.0 * g``, ``a + -b``, ``g += -x``, ``np.sum(-g)``).
* ``elide_broadcasts``: ``np.broadcast_to(g, shape)`` dropped where every reader
  of ``g`` broadcasts anyway (needs the probe's shapes).
* ``rematerialize_loop_values``: cheap loop values recomputed in the reversed loop
  instead of pushed and popped.
* ``eliminate_dead_code``: assignments nobody reads (liveness).
* ``forward_negations``, ``inline_single_use_arrays``: single-use temporaries
  folded into their one reader (signs absorbed; arrays freed at once).
* ``assign_first_slice``, ``reductions_as_methods``: a first ``+=`` into fresh zeros
  assigns; ``np.sum(g, axis=1)`` on a known array is ``g.sum(axis=1)``.
* ``merge_slice_accumulations``, ``combine_scaled_accumulations``, ``cancel_negations``,
  ``rename_single_use_copies``: ``g[s] = a; g[s] += b`` is one assignment,
  ``g -= c * y; g += c * m`` one update; signs cancelled or absorbed for free.
* ``batch_loop_accumulations``: small per-trip weight-gradient products of a reversed
  loop become one product after it; ``iterate_stacks``: a stack popped once per trip
  is iterated (``for x in reversed(x_stack)``).
* ``narrow_constants``: in float32 / float16 code, the Python numbers NumPy would turn
  into float64 arrays (``np.broadcast_to(1.0, S)``, ``np.zeros(S)``, ``0.5 * mask``)
  get the code's dtype: float32 in, float32 through.

``eliminate_dead_forward`` (forward statements whose values neither the backward
pass nor the result needs) runs earlier, in ``pipeline``, before the stacks are
decided.  The passes never change what a gradient computes, only how: the
shape-dependent ones consult a ``ShapeOracle`` built from the probe.
"""
from __future__ import annotations

from typing import Set

import gast

from s2sgrad.passes.batching import batch_loop_accumulations
from s2sgrad.passes.broadcasts import elide_broadcasts
from s2sgrad.passes.common import ShapeOracle, _name_counts, _protected, flatten
from s2sgrad.passes.dtypes import narrow_constants
from s2sgrad.passes.deadcode import eliminate_dead_code, eliminate_dead_forward
from s2sgrad.passes.loops import rematerialize_loop_values
from s2sgrad.passes.lowering import assign_first_slice, reductions_as_methods
from s2sgrad.passes.propagate import propagate_copies
from s2sgrad.passes.simplify import Simplify, cancel_negations, simplify_function
from s2sgrad.passes.stacks import iterate_stacks
from s2sgrad.passes.temporaries import (combine_scaled_accumulations, forward_negations,
                                        inline_single_use_arrays, merge_scalar_accumulations,
                                        merge_slice_accumulations, rename_single_use_copies)

__all__ = ["ShapeOracle", "Simplify", "assign_first_slice", "batch_loop_accumulations",
           "elide_broadcasts",
           "eliminate_dead_code", "eliminate_dead_forward", "flatten", "forward_negations",
           "inline_single_use_arrays", "iterate_stacks", "merge_scalar_accumulations", "optimize_function", "propagate_copies",
           "reductions_as_methods", "rematerialize_loop_values", "simplify_function"]


def optimize_function(fn: gast.FunctionDef, oracle: ShapeOracle,
                      helpers: Set[str] = frozenset(), shapes_known: bool = False,
                      keep_loop_trips: bool = False) -> gast.FunctionDef:
    """Every clean-up, in order.  ``oracle`` says which names are floating (and,
    when ``shapes_known``, their shapes: that enables ``elide_broadcasts``).
    ``keep_loop_trips``: backward loops keep iterating over the forward loop's trips
    (checkpointing replays them by trip), not over the saved values."""
    np_name = oracle.numpy_name
    fn.body = flatten(fn.body)
    keep = _protected(fn)            # no pass adds an in-place write or a result
    fold = Simplify(oracle, trust_floats=False).visit
    fn.body = propagate_copies(fn.body, np_name, helpers, keep, fold)
    fn = simplify_function(fn, oracle, keep)
    if shapes_known:                 # lazy broadcasts expose constants: propagate again
        fn = elide_broadcasts(fn, oracle, keep)
        fn.body = propagate_copies(fn.body, np_name, helpers, keep, fold)
    if shapes_known:
        fn = rematerialize_loop_values(fn, oracle)
    fn = eliminate_dead_code(fn, np_name, helpers)
    fn = forward_negations(fn, np_name)
    fn = simplify_function(fn, oracle, keep)
    fn.body = assign_first_slice(fn.body, np_name)
    fn = combine_scaled_accumulations(fn, oracle, np_name)
    fn = merge_slice_accumulations(fn, oracle, np_name)
    if shapes_known:
        fn = merge_scalar_accumulations(fn, oracle)
        fn = simplify_function(fn, oracle, keep)
    counts = _name_counts(fn)        # (reads and bindings: cancel_negations keeps them right)
    fn = cancel_negations(fn, oracle, keep, np_name, counts)
    fn = rename_single_use_copies(fn, keep, counts)
    if shapes_known:
        fn = inline_single_use_arrays(fn, oracle, keep, np_name)
        fn = reductions_as_methods(fn, oracle)
        fn = batch_loop_accumulations(fn, oracle)
    if {"zip", "reversed"} <= oracle.builtins and not keep_loop_trips:
        fn = iterate_stacks(fn, oracle)
    fn = narrow_constants(fn, oracle)
    return fn
