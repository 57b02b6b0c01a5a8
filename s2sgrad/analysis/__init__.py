"""What the compiler knows about the primal trace: names and what they resolve to
(names.py), what each statement is and which values carry gradients (dataflow.py), and
the shapes the first call told (shapes.py)."""
