"""The back end: tree -> readable source and a compiled function (emit.py), the
in-process cache (cache.py) and the disk cache (diskcache.py)."""
