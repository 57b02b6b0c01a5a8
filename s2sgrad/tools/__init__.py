"""What a user runs around the compiler: the ``s2sgrad`` command (cli.py), standalone
export (export.py) and the computational-graph view (explain.py)."""
