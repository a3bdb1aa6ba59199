"""One clear error for a model file whose structure breaks its format's own contracts.

The importers' lowering rules read a model as its format defines it: an ADD has two
inputs, a Conv's `strides` is a list of ints, an operator's options are of its kind. A
damaged or hand-made file that breaks that makes a rule fail with an IndexError or a
TypeError deep inside the lowering. Those become a ModelInputError naming the operator
being lowered and what went wrong.

The framework's own checker is not asked instead: TFLite's interpreter crashes the whole
process (SIGSEGV) on some damaged files, which is what edgespec must not do.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Optional

from ..errors import ModelInputError

# what a rule raises when the structure it reads is not what the format promises
STRUCTURE_ERRORS = (IndexError, KeyError, ValueError, TypeError, ZeroDivisionError, OverflowError, AttributeError,
                    RecursionError)


@contextlib.contextmanager
def malformed_model_errors(format_name: str, where: Callable[[], Optional[str]], hint: str) -> Iterator[None]:
    """Structure errors inside the block become a ModelInputError; `where()` names the operator then lowered."""
    try:
        yield
    except STRUCTURE_ERRORS as e:
        place = where()
        at = f" at {place}" if place else ""
        what = str(e).splitlines()[0][:300] if str(e) else ""
        raise ModelInputError(f"the {format_name} model is malformed{at}: its structure is not what its format "
                              f"defines ({type(e).__name__}{': ' + what if what else ''})", hint=hint) from e
