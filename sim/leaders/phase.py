"""Leaders and groups: the monthly review (pay, quit, drop or add a platform), titles,
recruitment, and the groups households follow.

Phase 5 of the day (ODD 3, ODD 7.3). Leaders whose month ends today are paid the incentive
scheme's monthly bonuses and their outside income, then review: each quits with the churn
probability of :func:`sim.leaders.table.quit_probability` (its income short of its reservation
income, tenure, recognition). A quitter's members lose its group and search for another; the
platform searches for a successor, who starts with an empty group. Stayers may drop a platform
that does not pay for their time or add one whose terms beat theirs (multi-homing; members
follow in part). Recognition schemes title the top leaders every 30 days. Platforms then
recruit where coverage is missing, a few a day (:mod:`sim.leaders.recruiting`); households leave
idle groups and join new ones (:mod:`sim.leaders.groups`); every household that lost a pickup
point is accounted for. This module owns the leaders' month-to-month sales by neighbourhood
(what a leader hears a platform pays around here), the followed groups and the day's orphaned
households; it writes the leader table and the households' ``leader_of``, and posts bonuses and
outside income to the ledger.
"""

from __future__ import annotations

import numpy as np

from sim.arrays import count_cols
from sim.leaders import kernels
from sim.leaders.groups import FollowedGroups
from sim.leaders.recruiting import Recruiting
from sim.leaders.table import due_rows, member_cap, person_of, review

__all__ = ["Leadership"]


class Leadership:
    """Leaders' state and phase for one market."""

    OWNS = ("nb_sales_month", "member_cap", "groups", "recruiting", "_orphans")
    WRITES = ("leaders (the table and agents)", "consumers (leader_of, is_leader, aware,",
              "adopted, leader_available_day, habit_platform)",
              "today (leader counts, pay, member flows)",
              "ledger", "recorder (households that lost a pickup point)")

    def __init__(self, market):
        self.m = market
        n_p = len(market.platform_names)
        # Sales per neighbourhood x platform over about the last month (exponential, 30 days):
        # what a leader considering a platform hears it pays around here (book_orders, called
        # by settlement, adds the day's sales).
        self.nb_sales_month = np.zeros((market.network.n_neighbourhoods, n_p))
        self.member_cap = member_cap(market.cfg.leaders)
        self.groups = FollowedGroups(market, self.member_cap)  # who follows which leader
        self.recruiting = Recruiting(market, self.member_cap, self.groups)
        self._orphans: list[tuple[int, np.ndarray]] = []

    def book_orders(self, book) -> None:
        """Settlement's orders on the leaders' month: each order and its value on its leader's
        row; the neighbourhoods' month of sales (exponential, 30 days) moves on and takes today's
        sales."""
        m = self.m
        t, n_p = m.leaders, len(m.platform_list)
        np.add.at(t.month_orders, book.leader, 1)
        np.add.at(t.month_sales_yuan, book.leader, book.value_yuan)
        self.nb_sales_month *= 1.0 - 1.0 / 30.0
        # Added at the flat (K * P) cells: the same additions in the same order as with the
        # (neighbourhood, platform) index pair, which NumPy's add.at does ~6x slower.
        np.add.at(np.reshape(self.nb_sales_month, -1, copy=False),
                  m.consumers.neighbourhood[book.consumer] * n_p + book.platform,
                  book.value_yuan)

    def book_commission(self, leader_rows: np.ndarray, commission: np.ndarray) -> None:
        """Commission on the goods collected today, on each order's leader row (ODD 7.3: booked
        on the pickup day, on delivered units)."""
        t = self.m.leaders
        np.add.at(t.month_income_yuan, leader_rows, commission)
        np.add.at(t.income_to_date_yuan, leader_rows, commission)

    def run(self, d: int) -> None:
        """Monthly reviews (pay, quit, drop or add a platform), titles, recruitment, groups.

        ODD 7.3. Leaders whose month ends today are paid the scheme's monthly bonuses and
        outside income, review (quit or stay), and stayers may drop a platform that does not pay
        for their time or add one whose terms beat theirs (multi-homing). Recognition schemes
        title the top leaders every 30 days. Where a leader quit, the successor search starts;
        platforms recruit (surveys, successors, at most ``recruits_per_day``); households leave
        idle groups and join groups; every household that lost a pickup point today is
        accounted for (another group of the platform, another platform, or none).
        """
        m = self.m
        t, lc = m.leaders, m.cfg.leaders
        n_p = len(m.platform_list)
        self._orphans: list[tuple[int, np.ndarray]] = []
        lost = np.zeros((m.network.n_neighbourhoods, n_p), bool)  # a leader quit there
        quits = 0
        if t.n:
            rows = due_rows(t, d, lc.review_days)
            potential = self._potential_ratio(rows)
            self._pay_month(rows, d, potential)
            gross = (t.month_income_yuan[rows] + t.month_bonus_yuan[rows]
                     + t.month_outside_yuan[rows])
            u = m.streams.uniform("leaders.quit", d, t.n)
            reviewed, quitting = review(t, d, u, lc)
            if len(reviewed):
                m.recorder.leader_reviews(d, rows, gross, potential, reviewed, quitting)
            if len(quitting):
                qrows = rows[np.isin(person_of(t)[rows], quitting)]
                short = t.smoothed_net_income_yuan[person_of(t)[qrows]] < \
                    t.reservation_income_yuan[person_of(t)[qrows]]
                reasons = np.where(short, "income_below_reservation", "other")
                self.deactivate(qrows, d, "quit", reasons)
                np.add.at(m.today.leader_counts[:, 1], t.platform[qrows], 1)
                lost[t.neighbourhood[qrows], t.platform[qrows]] = True
                quits = len(quitting)
            if lc.multihoming and len(rows):
                self._multihome(d, rows[t.active[rows]])
            # Titles every review_days, on the day the leaders who joined on day 0 (and those
            # who replaced them on their review days) are reviewed: their month's sales are new.
            if m.incentives.awards_titles and d > 0 and d % lc.review_days == 0:
                self._award_titles()
        m.today.leader_quits = quits
        m.poaching.run(d)  # offers to rivals' largest leaders (sim.leaders.poaching)
        if lost.any():
            self.recruiting.leaders_quit(lost, d)
        recruited = self.recruiting.run(d)
        m.today.leader_counts[:, 0] += recruited
        m.today.leader_recruits = int(recruited.sum())
        self.groups.run(d)  # idle groups are left; adopters join groups
        self.account_orphans()
        m.services.run(d)  # the day's cost of the points that run community services
        m.training.run(d)  # the day's newly trained leaders (sim.remedies.training)

    def _pay_month(self, rows: np.ndarray, d: int, potential: np.ndarray) -> None:
        """Pay the month's bonuses (platforms) and outside income (services, government).

        Bonuses go to each service row and are paid by its platform; service fees, government
        subsidies and service work are the leader's, booked on one row per point that runs the
        community services (:mod:`sim.remedies.services`).
        """
        m = self.m
        if len(rows) == 0:
            return
        t = m.leaders
        j = t.platform[rows].astype(np.int64)
        bonus = m.incentives.monthly_bonus(d, j, t.month_sales_yuan[rows], potential)
        if m.incentives.evaluates_complaints:  # complaint handling (ComplaintEvaluation)
            bonus = bonus + m.incentives.evaluation_bonus(
                j, t.month_sales_yuan[rows], t.month_complaints[rows], t.month_orders[rows])
        t.month_bonus_yuan[rows] += bonus + m.poaching.premiums(rows, d)
        paid = t.month_bonus_yuan[rows]  # with prizes accrued since the last review
        fees, gov, minutes = m.services.month(rows)  # once per point (sim.remedies.services)
        t.month_outside_yuan[rows] += fees + gov
        t.month_service_minutes[rows] += minutes
        t.income_to_date_yuan[rows] += paid + fees + gov
        pay = m.today.leader_pay
        np.add.at(pay[:, 0], j, paid)
        np.add.at(pay[:, 1], j, fees)
        np.add.at(pay[:, 2], j, gov)
        for pj, p in enumerate(m.platform_list):
            m.ledger.post(p.index, "commission_yuan", float(pay[pj, 0]))
        m.ledger.add_money("bonus_paid", float(paid.sum()))
        m.ledger.add_money("service_fees", float(fees.sum()))
        m.ledger.add_money("government_subsidy", float(gov.sum()))
        m.ledger.add_money("leader_income", float((paid + fees + gov).sum()))

    def _potential_ratio(self, rows: np.ndarray) -> np.ndarray:
        """Each row's local potential over its platform's mean (1 = average).

        Local potential = the platform's sales in the leader's neighbourhood over about the last
        month, per leader of the platform there: what the area can buy, which the platform
        observes. Villages with few, older households who order less have a low potential
        (seed 000 §3.2.1); the base of differentiated targets (seed 000 §4.2.2, "引入动态调整机制").
        """
        m = self.m
        t = m.leaders
        act = np.flatnonzero(t.view("active"))
        n_p = len(m.platform_list)
        here = np.zeros((m.network.n_neighbourhoods, n_p))
        np.add.at(here.reshape(-1), t.neighbourhood[act] * n_p + t.platform[act], 1)  # flat: faster
        per_leader = np.divide(self.nb_sales_month, here, out=np.zeros_like(here),
                               where=here > 0)
        plat = t.platform[act].astype(np.int64)
        pot_act = per_leader[t.neighbourhood[act], plat]
        tot = np.bincount(plat, weights=pot_act, minlength=n_p)
        cnt = np.bincount(plat, minlength=n_p)
        mean = np.divide(tot, cnt, out=np.zeros(n_p), where=cnt > 0)
        j = t.platform[rows].astype(np.int64)
        ref = mean[j]
        return np.divide(per_leader[t.neighbourhood[rows], j], ref, out=np.ones(len(rows)),
                         where=ref > 0)

    def _award_titles(self) -> None:
        """Monthly titles (月度之星团长, seed 000 §4.2.2): top leaders of each platform by sales."""
        m = self.m
        t = m.leaders
        per = person_of(t)
        act = np.flatnonzero(t.view("active"))
        t.recognised[: t.n] = False
        for j in range(len(m.platform_list)):
            rows = act[t.platform[act] == j]
            win = rows[m.incentives.title_winners(j, t.last_month_sales_yuan[rows])]
            t.recognised[per[win]] = True
            # paid by the platform at the leader's review
            t.month_bonus_yuan[win] += m.incentives.title_prize_yuan(j)

    def _multihome(self, d: int, rows: np.ndarray) -> None:
        """Reviewing leaders drop a platform that does not pay or add one whose terms are better.

        Drop: a leader serving several platforms drops each whose month net of the value of
        time is below ``drop_net_below_yuan`` (keeping its best). Add (multi-homing, seed 003
        l.75 "团长多平台运营现象普遍"): the expected commission from an active platform that
        covers the neighbourhood but which it does not serve, ``rate * sales of that platform
        here / (its leaders here + 1)`` (its mean per leader where it has none here), beats the
        leader's pay per platform served by ``add_margin``; it adds the best such platform with
        probability ``add_prob``, and each member follows with probability
        ``member_follow_share`` (up to the group cap).
        """
        m = self.m
        t, lc = m.leaders, m.cfg.leaders
        n_p = len(m.platform_list)
        per = person_of(t)
        act = t.view("active")
        n_rows_of = np.bincount(per[act], minlength=t.n)
        net = t.last_month_net_yuan[rows]
        best = np.full(t.n, -np.inf)
        np.maximum.at(best, per[rows], net)
        drop = rows[(n_rows_of[per[rows]] > 1) & (net < lc.drop_net_below_yuan)
                    & (net < best[per[rows]])]
        if len(drop):
            self.deactivate(drop, d, "dropped", "not_paying")
            np.add.at(m.today.leader_counts[:, 2], t.platform[drop], 1)
        rows = rows[t.active[rows]]
        if len(rows) == 0:
            return
        persons, pos = np.unique(per[rows], return_inverse=True)
        serves = np.zeros((len(persons), n_p), bool)
        serves[pos, t.platform[rows]] = True
        pay = np.bincount(pos, weights=t.last_month_pay_yuan[rows]) / np.bincount(pos)
        k = m.network.n_neighbourhoods
        act_rows = np.flatnonzero(t.view("active"))
        here = np.zeros((k, n_p))
        np.add.at(here, (t.neighbourhood[act_rows], t.platform[act_rows]), 1)
        s = self.nb_sales_month
        per_leader_all = np.divide(s.sum(axis=0), here.sum(axis=0), out=np.zeros(n_p),
                                   where=here.sum(axis=0) > 0)
        est_sales = np.where(here > 0, s / (here + 1), per_leader_all[None, :])
        rate = m.incentives.basket_rates(d)
        nb = t.neighbourhood[persons]
        est = est_sales[nb] * rate[None, :]
        open_ = np.array([p.active for p in m.platform_list])[None, :] & \
            np.stack([p.covered for p in m.platform_list], axis=1)[nb] & ~serves
        better = open_ & (est > (1.0 + lc.add_margin) * pay[:, None])
        u = m.streams.uniform("leaders.multihome.add", d, t.n)[persons]
        go = better.any(axis=1) & (u < lc.add_prob)
        if not go.any():
            return
        q = persons[go]
        j_new = np.argmax(np.where(better[go], est[go], -np.inf), axis=1)
        k = len(q)
        cols = {name: getattr(t, name)[q] for name in (
            "home", "neighbourhood", "fridge", "village", "reservation_income_yuan",
            "wage_yuan_per_hour", "minutes_per_order", "minutes_per_complaint")}
        idx = t.append(person=q, platform=j_new, active=np.ones(k, bool),
                       day_joined=np.full(k, d), day_left=np.full(k, -1), **cols)
        m.recorder.leader_events(d, idx, j_new, "added", "better_terms")
        np.add.at(m.today.leader_counts[:, 3], j_new, 1)
        self._members_follow(d, q, j_new)

    def _members_follow(self, d: int, q: np.ndarray, j_new: np.ndarray,
                        stream: str = "leaders.multihome.follow") -> None:
        """Members of leaders ``q`` who added platform ``j_new`` follow them to it: each takes
        it up through the leader's group (it becomes reachable there, and the leader tells it of
        the platform) with probability ``member_follow_share`` (ODD 7.3; seed 000 §2.2: the
        leader's recommendation decides); the others keep the leader for its other platforms."""
        m = self.m
        c, lc = m.consumers, m.cfg.leaders
        u = m.streams.uniform(stream, d, c.n)
        follows = u < lc.member_follow_share
        homes = m.leaders.home[q]
        follows[homes] = True  # the leader itself
        members = self.groups.services_changed(q, j_new, follows)
        # a follower learns of the platform from its leader
        new_j = np.full(m.leaders.n, -1, np.int64)
        new_j[q] = j_new
        g = self.groups.leader[members]
        j = np.where(g >= 0, new_j[np.maximum(g, 0)], -1)
        r, s = np.nonzero((j >= 0) & follows[members][:, None])
        c.aware[members[r], j[r, s]] = True

    def deactivate(self, idx: np.ndarray, d: int, event: str, reasons) -> None:
        """Service rows ``idx`` stop; the households they served lose that pickup point (kept
        for accounts) unless another group of theirs serves the platform.

        A leader whose last service stops leaves: its members lose its group
        (:meth:`sim.leaders.groups.FollowedGroups.leaders_left`); it is no longer a leader and
        may not be recruited again for ``rejoin_cooldown_days``.
        """
        m = self.m
        t, c = m.leaders, m.consumers
        t.active[idx] = False
        t.day_left[idx] = d
        per = person_of(t)
        still = np.bincount(per[t.view("active")], minlength=t.n)
        gone = idx[still[per[idx]] == 0]
        homes = t.home[gone]
        c.is_leader[homes] = False
        c.leader_available_day[homes] = d + m.cfg.leaders.rejoin_cooldown_days
        lost = []
        stopped = np.zeros(t.n + 1, bool)  # the last entry stands for "no pickup point" (-1)
        stopped[idx] = True
        hit, ptr = kernels.served_by(c.leader_of, stopped)  # one pass for every platform
        for j in np.unique(t.platform[idx]):
            h = hit[ptr[j]:ptr[j + 1]]
            lost.append((int(j), h))
            m.recorder.households_lost_leader(d, h, int(j))
        if len(gone):
            served = np.zeros(c.n, bool)  # the union over platforms, ascending (a mask: cheaper
            for _, h in lost:  # than hashing the members of every quitter)
                served[h] = True
            self.groups.leaders_left(np.unique(per[gone]), np.flatnonzero(served))
        staying = np.unique(per[idx[still[per[idx]] > 0]])
        if len(staying):
            self.groups.services_changed(staying)
        self._orphans.extend(lost)
        m.recorder.leader_events(d, idx, t.platform[idx], event, reasons)

    def account_orphans(self) -> None:
        """Households that lost a pickup point today: re-homed, served elsewhere or unserved."""
        m = self.m
        flows = m.today.member_flows
        active = np.array([p.active for p in m.platform_list])
        lo = m.consumers.leader_of
        for j, h in self._orphans:
            same = lo[h, j] >= 0
            other = ~same & ((lo[h] >= 0) & active[None, :]).any(axis=1)
            flows[j] += [len(h), same.sum(), other.sum(), (~same & ~other).sum()]
        self._orphans = []

    def leader_coverage(self) -> np.ndarray:
        """Share of households with a pickup point of each platform (active platforms), (P,)."""
        m = self.m
        active = np.array([p.active for p in m.platform_list])
        c = m.consumers
        return count_cols(c.leader_of >= 0) / c.n * active

