"""Every program of tests/realcode/, unmodified, through realcheck.run (see realcheck.py).

A program that needs a construct s2sgrad does not support yet says so with
``NEEDS = "<construct>, branch <name>"``: it is a strict xfail (an XPASS fails the
suite, so whoever lands the construct un-marks the program)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import realcheck as harness  # noqa: E402


def _params():
    out = []
    for name in harness.programs():
        needs = None
        with open(os.path.join(harness.HERE, name + ".py")) as fh:
            for line in fh:
                if line.startswith("NEEDS = "):
                    needs = line[len("NEEDS = "):].strip().strip("\"'")
        marks = [pytest.mark.xfail(strict=True, reason="needs " + needs)] if needs else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


# what a program may import besides NumPy (the CI matrix rows install NumPy alone)
OPTIONAL = ("scipy", "autograd")


@pytest.mark.parametrize("name", _params())
def test_program(name):
    try:
        harness.run(harness.load(name))
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in OPTIONAL:
            pytest.skip("needs %s, which is not installed" % exc.name)
        raise


def test_at_least_forty_programs():
    assert len(harness.programs()) >= 40
