"""The front end: source -> gast tree (parse.py), checks of what is supported
(checks.py), control flow (controlflow.py), subroutines (inline.py), and the
three-address primal trace (lower.py)."""
