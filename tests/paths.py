"""Where things are, for tests in any subfolder of tests/ (``from paths import ROOT``)."""
import os

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
