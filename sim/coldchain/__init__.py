"""Cold chain and pickup (ODD 7.5): the Q10 shelf-life rule (:mod:`.formulas`), the phase that
moves yesterday's orders to the pickup points (:mod:`.phase`) and its compiled loops
(:mod:`.kernels`)."""

from sim.coldchain.formulas import (
    AREAS,
    LEG_LOSS_STAGE,
    LOSS_STAGES,
    SALTVEIT_PRODUCE_Q10_BANDS,
    STAGES,
    leg_of_loss,
    life_used,
    relative_shelf_life,
    shelf_life_days,
    shelf_life_days_banded,
)

__all__ = [
    "AREAS",
    "LEG_LOSS_STAGE",
    "LOSS_STAGES",
    "SALTVEIT_PRODUCE_Q10_BANDS",
    "STAGES",
    "leg_of_loss",
    "life_used",
    "relative_shelf_life",
    "shelf_life_days",
    "shelf_life_days_banded",
]
