"""Poaching: a platform offers a rival's largest leaders a commission premium to add it or to
move to it, and the members follow the leader (ODD 7.3, 7.4; issue 28).

Leaders own the relationship (seed 000 §2.2: the leader's recommendation decides where its
group buys; seed 003 l.75: leaders run several platforms at once), so a platform can buy a
rival's customers by buying its leaders. Each platform with ``rivalry.poach_leaders_per_month``
above zero makes its offers once a month (every 30 days from its entry; the number per
``market.platform_money_households`` households, scaled to the market and rounded up, as
recruiting is):

* the targets are the active service rows of its active rivals in the neighbourhoods it covers,
  of leaders who do not serve it yet, ranked by last month's sales (the largest first; ties by
  row, the older first);
* each takes the offer when its uniform of the stream ``leaders.poach.accept.<platform>`` (by
  leader row) is below ``poach_accept_prob``; of those, a leader whose uniform of
  ``leaders.poach.move.<platform>`` is below ``poach_move_share`` moves (stops serving the rival,
  event ``poached``), the others add the platform and serve both;
* the leader opens a service row for the poacher (event ``added``, reason ``poached``), and each
  of its members follows with ``leaders.member_follow_share`` (its own stream,
  ``leaders.poach.follow``): the follower can reach the poacher through the leader's group and
  learns of it; after a move a member who did not follow keeps the leader's group but not the
  rival through it (as when a leader drops a platform, ODD 7.3);
* the poacher pays ``poach_premium_rate`` of the new row's sales on top of its commission, at
  the row's monthly reviews until ``poach_premium_days`` after the move (booked as the leader's
  bonus and the platform's commission, and on its own account ``poach_premium_yuan``); the
  platforms table counts the leaders poached (``leaders_poached``).
"""

from __future__ import annotations

import numpy as np

from sim.leaders.recruiting import daily_recruits
from sim.leaders.table import person_of

__all__ = ["OFFER_EVERY_DAYS", "Poaching", "poach_targets"]

OFFER_EVERY_DAYS = 30  # offers once a month (the leaders' review month, leaders.review_days)


def poach_targets(platform, active, sales, person, neighbourhood, covered, serves_j, j: int,
                  n: int) -> np.ndarray:
    """The ``n`` service rows platform ``j`` makes offers to: active rows of other active
    platforms (``active`` per row, already masked by platform), in neighbourhoods it covers, of
    leaders (``person``) who do not serve it (``serves_j`` per person), largest last month's
    ``sales`` first (a stable sort: ties by row), one row (its largest) per leader."""
    ok = active & (platform != j) & covered[neighbourhood] & ~serves_j[person]
    rows = np.flatnonzero(ok)
    rows = rows[np.argsort(-sales[rows], kind="stable")]
    _, first = np.unique(person[rows], return_index=True)  # a leader once: its largest row
    return rows[np.sort(first)[:n]]


class Poaching:
    """Every platform's poaching offers, and the premiums on the rows it poached."""

    OWNS = ("rows", "until", "by")
    WRITES = ("leaders (a poached leader's new row; a mover's old row stops)",
              "groups and consumers (members follow)", "ledger")

    def __init__(self, market):
        self.m = market
        cfgs = [s.rivalry for s in market.strategies]
        self.per_month = np.array([c.poach_leaders_per_month for c in cfgs], float)
        self.premium = np.array([c.poach_premium_rate for c in cfgs], float)
        self.days = np.array([c.poach_premium_days for c in cfgs], np.int64)
        self.accept = np.array([c.poach_accept_prob for c in cfgs], float)
        self.move = np.array([c.poach_move_share for c in cfgs], float)
        self.rows = np.zeros(0, np.int64)  # the service rows opened by poaching
        self.until = np.zeros(0, np.int64)  # the last day their premium is paid
        self.by = np.zeros(0, np.int64)  # the poacher

    def run(self, d: int) -> None:
        """Today's offers: each poaching platform on its offer day (module docstring)."""
        m = self.m
        t = m.leaders
        if not self.per_month.any() or t.n == 0:
            return
        for p in m.platform_list:
            j = p.index
            since = d - p.cfg.entry_day
            if self.per_month[j] <= 0 or not p.active or since <= 0 or since % OFFER_EVERY_DAYS:
                continue
            self._offer(p, d)

    def _offer(self, p, d: int) -> None:
        m = self.m
        t, j = m.leaders, p.index
        market = m.cfg.market
        n = daily_recruits(float(self.per_month[j]), market.consumers,
                           market.platform_money_households)
        per = person_of(t)
        act = t.view("active")
        active_p = np.array([q.active for q in m.platform_list])
        plat = t.view("platform").astype(np.int64)
        serves_j = np.zeros(t.n, bool)
        serves_j[per[act & (plat == j)]] = True
        rows = poach_targets(plat, act & active_p[plat], t.view("last_month_sales_yuan"), per,
                             t.view("neighbourhood"), p.covered, serves_j, j, n)
        if len(rows) == 0:
            return
        u = m.streams.uniform(f"leaders.poach.accept.{p.name}", d, t.n)[rows]
        rows = rows[u < self.accept[j]]
        if len(rows) == 0:
            return
        moves = m.streams.uniform(f"leaders.poach.move.{p.name}", d, t.n)[rows] < self.move[j]
        q = per[rows]
        k = len(q)
        cols = {name: getattr(t, name)[q] for name in (
            "home", "neighbourhood", "fridge", "village", "reservation_income_yuan",
            "wage_yuan_per_hour", "minutes_per_order", "minutes_per_complaint")}
        j_new = np.full(k, j, np.int64)
        new = t.append(person=q, platform=j_new, active=np.ones(k, bool),
                       day_joined=np.full(k, d), day_left=np.full(k, -1), **cols)
        m.recorder.leader_events(d, new, j_new, "added", "poached")
        np.add.at(m.today.leader_counts[:, 3], j_new, 1)
        m.leadership._members_follow(d, q, j_new, stream="leaders.poach.follow")
        if moves.any():
            m.leadership.deactivate(rows[moves], d, "poached", "poached")
            np.add.at(m.today.leader_counts[:, 2], t.platform[rows[moves]], 1)
        self.rows = np.concatenate([self.rows, new])
        self.until = np.concatenate([self.until, np.full(k, d + int(self.days[j]))])
        self.by = np.concatenate([self.by, j_new])
        m.ledger.post(j, "leaders_poached", float(k))

    def premiums(self, rows: np.ndarray, d: int) -> np.ndarray:
        """The premium due on each of ``rows`` at its review on day ``d``: ``poach_premium_rate``
        of the month's sales of a row opened by poaching, until its last premium day; posted to
        the poacher's ``poach_premium_yuan`` (the review books it as bonus and commission)."""
        out = np.zeros(len(rows))
        if len(self.rows) == 0 or len(rows) == 0:
            return out
        pos = np.searchsorted(self.rows, rows)  # self.rows ascends: rows are appended
        pos = np.minimum(pos, len(self.rows) - 1)
        hit = (self.rows[pos] == rows) & (self.until[pos] >= d)
        if not hit.any():
            return out
        j = self.by[pos[hit]]
        out[hit] = self.premium[j] * self.m.leaders.month_sales_yuan[rows[hit]]
        paid = np.bincount(j, weights=out[hit], minlength=len(self.m.platform_list))
        for pj in np.flatnonzero(paid):
            self.m.ledger.post(int(pj), "poach_premium_yuan", float(paid[pj]))
        return out
