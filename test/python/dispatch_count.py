"""An op counter written for the tests, independent of edgespec's own, to check its op inventory."""
from collections import Counter

import torch
from torch.utils._python_dispatch import TorchDispatchMode


class CountDispatched(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.seen = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.seen[f"{func.namespace}.{func._schema.name.split('::')[1]}.{func._overloadname}"] += 1
        return func(*args, **(kwargs or {}))


def count_dispatched(fn, *args, no_grad=True):
    counter = CountDispatched()
    with torch.no_grad() if no_grad else torch.enable_grad(), counter:
        fn(*args)
    return dict(counter.seen)
