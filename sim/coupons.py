"""Coupons: who a platform's coupon reaches, its matching answer to a rival, and the coupon
yuan it wastes (ODD 7.4).

A platform's coupon programme (its strategy's ``subsidy`` group) is schedule x target x daily
budget. The schedule (:data:`sim.platforms.SUBSIDY_SCHEDULES`) sets the coupon per order by days
since entry, capped by the daily budget spread over yesterday's *takers* (yesterday's buyers
the target reached, whatever the coupon was then). The **target** says which households may use
it: every condition listed must hold (``[lapsed, village]``: lapsed village households):

* ``all``: every household;
* ``new_users``: never ordered from the platform (新人专享, first-order coupons);
* ``lapsed``: ordered from the platform before, but not in the last ``lapsed_days`` days (a
  win-back coupon: ``d - day_last_order_p > lapsed_days``);
* ``village`` / ``town``: where the household lives;
* ``segment:<name>``: a segment of ``market.segments``;
* ``price_sensitive``: beta_i above the market's median beta (fixed at set-up).

Eligibility is decided per (household, platform) inside the compiled choice loop
(:func:`eligible`), from the platform's target as a bit mask.

**coupon_match** (``response: coupon_match``): a platform whose order share fell by at least
``match_share_drop`` over the last ``match_window_days`` days while a rival pays a coupon matches
the rival paying the largest coupon today (the rival's programme's coupon, not a match: matches
do not chain), with the same amount and target, for as long as that rival pays, at most
``match_budget_yuan`` a day spread over yesterday's takers (scaled like the daily budget); where
its own programme pays more, its own coupon stands.

**Wasted coupon share.** A coupon from platform j is wasted on an order when the household would
have ordered from j without it: the choice is recomputed with j's coupon removed from j's
utility, every other term, the basket, the deals and the household's uniform the same (common
random numbers), and j is still chosen (:func:`wasted_orders`). Exact, not estimated: the
counterfactual utility is computed in the choice loop by the same operations with a zero
coupon. Wasted share = wasted coupon yuan / coupon yuan paid (settlement posts both on the
delivered value).
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

__all__ = ["BITS", "TARGETS", "Coupons", "coupon_summary", "eligible", "parse_target",
           "target_label", "wasted_orders"]

# Each target but `all` is one bit of a platform's target mask (all: no bit, every household).
BITS = {"new_users": 1, "lapsed": 2, "village": 4, "town": 8, "segment": 16,
        "price_sensitive": 32}
TARGETS = ("all", "new_users", "lapsed", "village", "town", "segment:<name>", "price_sensitive")


def parse_target(target, segment_names) -> tuple[int, int]:
    """A target list as (bit mask, segment index or -1).

    Raises:
        ValueError: a one-line reason naming the value and what is allowed.
    """
    target = list(target)
    if not target:
        raise ValueError("[]: empty; give at least one target, e.g. [all]")
    mask, seg = 0, -1
    for t in target:
        if t == "all":
            continue
        if isinstance(t, str) and t.startswith("segment:"):
            name = t.split(":", 1)[1]
            if name not in segment_names:
                raise ValueError(f"{t!r}: not a segment; allowed: "
                                 + ", ".join(f"segment:{s}" for s in segment_names))
            if seg >= 0 and seg != list(segment_names).index(name):
                raise ValueError(f"{target}: two segments reach no household; give one")
            mask |= BITS["segment"]
            seg = list(segment_names).index(name)
        elif t in BITS:
            mask |= BITS[t]
        else:
            raise ValueError(f"{t!r}: not a coupon target; allowed: {', '.join(TARGETS)}")
    if mask & BITS["village"] and mask & BITS["town"]:
        raise ValueError(f"{target}: village and town together reach no household")
    if mask & BITS["new_users"] and mask & BITS["lapsed"]:
        raise ValueError(f"{target}: new_users and lapsed together reach no household")
    return mask, seg


def target_label(target) -> str:
    """``[lapsed, village]`` -> ``"lapsed+village"`` (the daily table's ``coupon_target``)."""
    return "+".join(target)


# Called by the choice loop for a platform with a target (the loop skips it under `all`: the
# call, ~50-90 ns per chooser and platform measured at 8,000 choosers, is not always inlined).
@numba.njit(inline="always", cache=True, nogil=True)
def eligible(mask, lapsed_days, seg, i, j, d, day_last_order_p, in_village, segment, sensitive):
    """Whether household ``i`` may use platform ``j``'s coupon on day ``d`` (module docstring):
    every condition of the target ``mask`` (:data:`BITS`) holds."""
    if mask == 0:
        return True
    last = day_last_order_p[i, j]
    if mask & 1 and last >= 0:
        return False
    if mask & 2 and (last < 0 or d - last <= lapsed_days):
        return False
    if mask & 4 and not in_village[i]:
        return False
    if mask & 8 and in_village[i]:
        return False
    if mask & 16 and segment[i] != seg:
        return False
    if mask & 32 and not sensitive[i]:
        return False
    return True


def wasted_orders(v_raw, v_free, k, coupon_yuan, u, choose) -> np.ndarray:
    """Which choosers' coupons were wasted: they chose platform j with a coupon from j, and with
    j's coupon removed (``v_free[r, j]``, the same utility computed with a zero coupon), the
    same uniform ``u`` still picks j.

    Args:
        v_raw: (m, P + 1) the utilities of the recorded choice (outside option first).
        v_free: (m, P) each platform's utility without its coupon.
        k: (m,) the option chosen (0 the outside option, j + 1 platform j).
        coupon_yuan: (m, P) the coupon each chooser had at each platform.
        u: (m,) the choosers' uniforms of ``orders.choice``.
        choose: the logit choice by inversion (:func:`sim.choice.kernels.choice_probabilities`).

    Returns:
        (m,) bool, True where the chooser's coupon was wasted.
    """
    out = np.zeros(len(k), bool)
    for j in range(coupon_yuan.shape[1]):
        rows = np.flatnonzero((k == j + 1) & (coupon_yuan[:, j] > 0))
        if len(rows) == 0:
            continue
        v = v_raw[rows]  # a copy (fancy indexing)
        v[:, j + 1] = v_free[rows, j]
        z = v - v.max(axis=1)[:, None]  # as the choice loop: V - max V, then NumPy's exp
        k_free, _ = choose(np.exp(z), u[rows])
        out[rows] = k_free == j + 1
    return out


def coupon_summary(tables: dict[str, pd.DataFrame]) -> dict:
    """Per platform: coupon yuan paid over the run and the wasted coupon share (wasted / paid;
    None where nothing was paid)."""
    p = tables["platforms"]
    g = p.groupby("platform", sort=False)
    paid, wasted = g["subsidy_yuan"].sum(), g["wasted_coupon_yuan"].sum()
    return {
        "coupon_paid_yuan": {k: float(v) for k, v in paid.items()},
        "wasted_coupon_share": {k: (float(wasted[k] / v) if v > 0 else None)
                                for k, v in paid.items()},
    }


class Coupons:
    """Each platform's coupon terms of the day: amount, target and the coupon_match response.

    State per platform: today's coupon terms (``coupon_yuan`` on the Platform agent; the target
    mask, segment and lapsed days here), the rival it matches (-1: none) and its order shares.
    """

    OWNS = ("mask", "segment", "lapsed_days", "label", "matching", "share_history", "sensitive")
    WRITES = ("platforms (coupon_yuan, coupon_target)",)

    def __init__(self, market):
        self.m = market
        names = market.segment_names
        n_p = len(market.platform_list)
        parsed = [parse_target(s.subsidy.target, names) for s in market.strategies]
        self.own_mask = np.array([p[0] for p in parsed], np.int64)
        self.own_segment = np.array([p[1] for p in parsed], np.int64)
        self.own_label = [target_label(s.subsidy.target) for s in market.strategies]
        self.mask = self.own_mask.copy()  # today's (a match takes the rival's)
        self.segment = self.own_segment.copy()
        self.own_lapsed = np.array([s.subsidy.lapsed_days for s in market.strategies], np.int64)
        self.lapsed_days = self.own_lapsed.copy()
        self.label = list(self.own_label)
        self.matching = np.full(n_p, -1, np.int64)
        self.share_history: list[np.ndarray] = []  # order shares, one row per past day
        beta = market.consumers.price_sensitivity
        self.sensitive = beta > np.median(beta)  # fixed at set-up: beta does not change

    def respond(self, d: int) -> None:
        """Phase 2, after every platform set its programme's coupon: targets, and coupon_match.

        Rivals' coupons are read as their programmes set them today (before any match), so the
        outcome does not depend on the platforms' order.
        """
        m = self.m
        plats = m.platform_list
        self.share_history.append(np.array([p.order_share_yesterday for p in plats]))
        own = np.array([p.coupon_yuan for p in plats])  # today's programme coupons
        self.mask[:], self.segment[:], self.lapsed_days[:] = (self.own_mask, self.own_segment,
                                                              self.own_lapsed)
        self.label[:] = self.own_label
        for j, p in enumerate(plats):
            sub = p.strategy.subsidy
            if sub.response != "coupon_match" or not p.active:
                self.matching[j] = -1
                continue
            rivals = [r for r in range(len(plats)) if r != j and plats[r].active and own[r] > 0]
            if self.matching[j] >= 0 and self.matching[j] not in rivals:
                self.matching[j] = -1  # the rival stopped paying: so does the match
            w = int(sub.match_window_days)
            if self.matching[j] < 0 and rivals and len(self.share_history) > w:
                drop = self.share_history[-1 - w][j] - self.share_history[-1][j]
                if drop >= sub.match_share_drop:
                    self.matching[j] = max(rivals, key=lambda r: (own[r], -r))
            r = int(self.matching[j])
            if r < 0:
                continue
            budget = sub.match_budget_yuan * p.money_scale / max(1, p.coupon_takers_yesterday)
            matched = min(own[r], budget, p.basket_price_yuan)
            if matched > own[j]:
                p.coupon_yuan = matched
                self.mask[j], self.segment[j] = self.own_mask[r], self.own_segment[r]
                self.lapsed_days[j] = self.own_lapsed[r]
                self.label[j] = self.own_label[r]

    def terms(self):
        """Today's coupon per platform, its target mask, segment and lapsed days (choice loop)."""
        coupon = np.array([p.coupon_yuan for p in self.m.platform_list], float)
        return coupon, self.mask, self.segment, self.lapsed_days
