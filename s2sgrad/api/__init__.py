"""The public API: ``grad`` and ``value_and_grad`` (gradient.py), the derived transforms
(transforms.py), the per-call fast path (dispatch.py) and ``@adjoint`` (custom.py)."""
