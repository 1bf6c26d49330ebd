"""PyTorch's meta kernels run without importing torch._dynamo.

Many of PyTorch's kernels for the meta device (torch.cat, batch norm's decomposition, init.normal_)
are Python references wrapped by `torch._compile._disable_dynamo`, whose first call imports
torch._dynamo (about 0.8 s of CPU: a sixth of `symparams import`, more than all of symparams' own
work) only to mark the function as one torch.compile must not trace. No torch.compile runs while a
module is imported, so the mark changes nothing: `without_dynamo()` hands those wrappers a
`disable` that returns the function itself, and takes every mark back afterwards (the attribute
`_disable_dynamo` caches it in), so a torch.compile later in the process marks them as ever.
Anything else asking for torch._dynamo meanwhile gets the real one.
"""
from __future__ import annotations

import contextlib
import sys
import types

_NAME = "torch._dynamo"


class _Standin(types.ModuleType):
    """torch._dynamo as `_disable_dynamo` uses it: `disable(fn, recursive, wrapping)` -> fn."""

    def __init__(self):
        super().__init__(_NAME)
        self.marked = []

    def disable(self, fn=None, recursive=True, wrapping=True):
        if fn is not None:
            self.marked.append(fn)
        return fn

    def __getattr__(self, name):
        # any other use of torch._dynamo is a real one: the real module, from now on
        if sys.modules.get(_NAME) is self:
            del sys.modules[_NAME]
        import importlib
        return getattr(importlib.import_module(_NAME), name)


@contextlib.contextmanager
def without_dynamo():
    """Within: PyTorch's `_disable_dynamo` wrappers call their function without importing torch._dynamo
    (where it is imported already, nothing changes)."""
    if _NAME in sys.modules:
        yield
        return
    standin = _Standin()
    sys.modules[_NAME] = standin
    try:
        yield
    finally:
        if sys.modules.get(_NAME) is standin:
            del sys.modules[_NAME]
        for fn in standin.marked:       # `_disable_dynamo` asks the real torch._dynamo next time
            with contextlib.suppress(AttributeError):
                delattr(fn, "__dynamo_disable")
