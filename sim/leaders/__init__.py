"""Leaders and groups (ODD 7.3): the leader table, agents and rules (:mod:`.table`:
income, work, churn, recruitment targets), the monthly phase (:mod:`.phase`: pay, quit,
multi-homing, titles), recruitment (:mod:`.recruiting`), the groups households follow
(:mod:`.groups`) and their compiled loops (:mod:`.kernels`)."""

from sim.leaders.table import (
    NONE,
    Leader,
    LeaderTable,
    Uniforms,
    due_rows,
    lognormal_income,
    member_cap,
    month_net_income,
    month_work_minutes,
    person_of,
    pick_recruits,
    quit_probability,
    recruitment_targets,
    review,
    uniforms_of,
)

__all__ = [
    "NONE",
    "Leader",
    "LeaderTable",
    "Uniforms",
    "due_rows",
    "lognormal_income",
    "member_cap",
    "month_net_income",
    "month_work_minutes",
    "person_of",
    "pick_recruits",
    "quit_probability",
    "recruitment_targets",
    "review",
    "uniforms_of",
]
