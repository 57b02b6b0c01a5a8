"""Automatic differentiation proper: reverse mode (reverse/), its split form behind
``vjp`` (vjp.py), forward mode (forward.py), forward mode through a reverse-only rule
(forward_by_transpose.py), stop_gradient and grad_of (gradient_control.py), and the
passes of each mode in order (pipeline.py)."""
