"""Mesa agents whose state is a row of the model's arrays (ODD 2).

The many (households) and the numerous (leaders) keep their state in numpy arrays, one row per
agent, so phases can update them all at once. Their Mesa agents are views: each attribute made
with :func:`row_property` reads and writes the agent's own row, so per-agent inspection, the
dashboard and the vectorised phases see the same state.
"""

from __future__ import annotations

import numpy as np

__all__ = ["row_property"]


def row_property(table: str, name: str, doc: str) -> property:
    """An attribute that reads and writes ``model.<table>.<name>[agent.index]``.

    Reading gives a Python scalar, or a copy of the row for per-platform columns; assigning
    writes back into the array.
    """

    def fget(self):
        value = getattr(getattr(self.model, table), name)[self.index]
        return value.copy() if isinstance(value, np.ndarray) else value.item()

    def fset(self, value):
        getattr(getattr(self.model, table), name)[self.index] = value

    return property(fget, fset, doc=doc)
