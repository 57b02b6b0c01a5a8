"""Control-flow normalization: one exit point, structured loops."""
from __future__ import annotations

from typing import List

import gast

from .errors import UnsupportedSyntaxError


def single_exit(body: List[gast.stmt], names, info, fn) -> List[gast.stmt]:
    """Rewrite ``body`` so that it ends in its only ``return``."""
    returns = [n for n in gast.walk(gast.Module(body=body, type_ignores=[]))
               if isinstance(n, gast.Return)]
    if not returns:
        raise info.error(UnsupportedSyntaxError, "the function has no return statement", fn,
                         hint="return the value to differentiate")
    raise info.error(UnsupportedSyntaxError, "a return statement before the end of the "
                     "function is not supported yet", returns[0],
                     hint="assign the result to a variable and return it at the end")
