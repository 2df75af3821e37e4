"""Records (ODD 10, ODD 8): the daily tables (:mod:`.recorder`, phase 9), the run's summary
(:mod:`.summary`) and the records' compiled count (:mod:`.kernels`)."""

from sim.records.recorder import REPURCHASE_WINDOW_DAYS, LastOrderDays, Recorder, hhi_points
from sim.records.summary import (
    FULL_DAY_HOURS,
    leader_calibration_summary,
    summarise,
    supply_summary,
)

__all__ = [
    "FULL_DAY_HOURS",
    "REPURCHASE_WINDOW_DAYS",
    "LastOrderDays",
    "Recorder",
    "hhi_points",
    "leader_calibration_summary",
    "summarise",
    "supply_summary",
]
