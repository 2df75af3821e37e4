"""One agent's state, for the dashboard's inspector: a household or a group leader.

A click on a household's dot or a leader's triangle in the network view (or the inspector's
selectors) picks the agent; these functions read its state through the model's own Mesa agents
(:class:`sim.consumers.Consumer`, :class:`sim.leaders.Leader`, views of their rows of the
model's arrays), so the inspector shows exactly what the phases see, and changes nothing.
"""

from __future__ import annotations

from sim.consumers import Consumer
from sim.leaders import Leader

__all__ = ["household_state", "leader_state"]


def _agent(model, kind, index: int):
    """The model's Mesa agent of ``kind`` viewing row ``index`` (None if there is none)."""
    found = model.agents_by_type.get(kind)
    if found is None:
        return None
    return next((a for a in found if a.index == index), None)


def household_state(model, i: int) -> dict[str, str] | None:
    """Household ``i``'s state as label -> text; None if there is no such household."""
    a = _agent(model, Consumer, int(i))
    if a is None:
        return None
    names = model.platform_names
    last = int(a.last_platform)
    pickup = [f"{names[j]}: leader {int(r)}" for j, r in enumerate(a.leader_of) if r >= 0]
    return {
        "household": f"{a.index} ({'village' if a.in_village else 'town'}, neighbourhood "
                     f"{int(a.neighbourhood)}, {a.segment_name})",
        "adopted group buying": f"day {int(a.day_adopted)}" if a.adopted else "not yet",
        "aware of": ", ".join(n for n, k in zip(names, a.aware, strict=True) if k) or "none",
        "trust": ", ".join(f"{n} {t:.2f}" for n, t in zip(names, a.trust, strict=True)),
        "last order": f"{names[last]}, day {int(a.day_last_order)}" if last >= 0 else "never",
        "orders to date": f"{int(a.orders):,}",
        "spend to date": f"{float(a.spend_yuan):,.1f} yuan",
        "pickup points": ", ".join(pickup) or "none",
        "neighbours": f"{len(a.neighbours)}",
        "complaints heard": f"{float(a.complaints_heard):.2f}",
        "runs a pickup point": "yes" if a.is_leader else "no",
    }


def leader_state(model, row: int) -> dict[str, str] | None:
    """Group leader ``row``'s state as label -> text; None if there is no such leader."""
    a = _agent(model, Leader, int(row))
    if a is None:
        return None
    state = {
        "group leader": f"{a.index} (household {int(a.home)}, neighbourhood "
                        f"{int(a.neighbourhood)})",
        "serves": ", ".join(a.platforms) or f"no one (was {a.platform_name})",
        "joined": f"day {int(a.day_joined)}",
        "members": f"{a.members:,}",
        "net income (smoothed)": f"{float(a.smoothed_net_income_yuan):,.0f} yuan a month",
        "reservation income": f"{float(a.reservation_income_yuan):,.0f} yuan a month",
        "commission to date": f"{float(a.income_to_date_yuan):,.0f} yuan",
        "fridge": "yes" if a.fridge else "no",
    }
    if a.active:
        state["quit probability at next review"] = f"{a.quit_probability():.1%}"
    else:
        state["quit"] = f"day {int(a.day_left)}"
    return state
