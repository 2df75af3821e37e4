"""groupbuy-sim: an agent-based model of community group buying (社区团购) in low-tier China.

Start with :class:`sim.model.GroupBuyingMarket` (the model and its day) and ``docs/ODD.md``.
"""

import sys

# Mesa 3.5 needs 3.12; on 3.11 pip quietly installs Mesa 3.3, whose API differs: fail loudly.
if sys.version_info < (3, 12):  # noqa: UP036
    raise RuntimeError(
        f"groupbuy-sim needs Python >= 3.12 (found {sys.version.split()[0]}); run 'make setup'"
    )

__version__ = "0.1.0"
