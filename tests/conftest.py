"""Shared pytest setup: make ``import s2sgrad`` (repo root) and ``from gradcheck import
check_grad`` (this directory) work with a plain ``python -m pytest`` from the repo root."""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
for _p in (_HERE, _ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)
