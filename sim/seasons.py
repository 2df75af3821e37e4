"""The calendar: season temperature and festival demand (ODD 3, phase 1).

Day 0 of a run is ``calendar.start_day_of_year`` (0 = 1 January). The ambient temperature is a
cosine over the year peaking on ``warmest_day_of_year``; the defaults are the climate normals of
Changsha, Hunan (annual mean ~17.5 °C, July ~29.5 °C, January ~5 °C; China Meteorological
Administration 1991-2020 normals), the home of Xingsheng Youxuan where community group buying
started (seed 004 §3, Table 1: "长沙地区首先兴起").

Demand rises around the Spring Festival (an assumption to sweep: households stock up for the
holiday) and, in villages, during the busy farming seasons (less time for the market, an
assumption to sweep; seed 000 §3.1.1 notes the farming calendar shapes rural logistics).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Calendar", "DayConditions", "day_conditions"]


@dataclass(frozen=True)
class DayConditions:
    """What the calendar says about one simulated day."""

    day: int
    day_of_year: int
    ambient_temp_c: float
    demand_multiplier_town: float
    demand_multiplier_village: float


def _in_window(doy: int, start: int, length: int) -> bool:
    return (doy - start) % 365 < length


def day_conditions(day: int, cal) -> DayConditions:
    """Temperature and demand multipliers for simulated ``day`` under calendar config ``cal``."""
    doy = (cal.start_day_of_year + day) % 365
    temp = cal.ambient_mean_c + cal.ambient_amplitude_c * math.cos(
        2.0 * math.pi * (doy - cal.warmest_day_of_year) / 365.0
    )
    festival_start = cal.spring_festival_day_of_year - cal.festival_days_before
    in_festival = _in_window(doy, festival_start, cal.festival_days_before + 7)
    festival = cal.festival_demand_multiplier if in_festival else 1.0
    farming = 1.0
    for start in cal.farming_season_start_days:
        if _in_window(doy, start, cal.farming_season_days):
            farming = cal.farming_demand_multiplier
    return DayConditions(
        day=day,
        day_of_year=doy,
        ambient_temp_c=temp,
        demand_multiplier_town=festival,
        demand_multiplier_village=festival * farming,
    )


class Calendar:
    """Phase 1 of the day (ODD 3): today's conditions, handed to the other phases in
    :attr:`sim.day.Day.conditions`."""

    OWNS = ()  # no state of its own
    WRITES = ("today.conditions",)

    def __init__(self, market):
        self.m = market

    def run(self, d: int) -> None:
        self.m.today.conditions = day_conditions(d, self.m.cfg.calendar)

    def ambient_temperatures(self) -> list[float]:
        """The ambient temperature of each day of the year (index: day of the year, 0-364)."""
        cal = self.m.cfg.calendar
        return [day_conditions((doy - cal.start_day_of_year) % 365, cal).ambient_temp_c
                for doy in range(365)]
