"""Supplier quality control and traceability (ODD 7.7; seed 004 §5.1.1-5.1.3).

Seed 004 §5.1.1: stricter monitoring of suppliers, "在供应商自查后进行复查或不定期抽验";
§5.1.3: a quality department that samples products at every storage point and leg; §5.3:
traceability so that a problem is traced back. A platform may inspect the pre-sale units it
receives at its grid warehouse, and a stock-mode platform the lots it buys (a lever of each
platform, ``platforms.<name>.strategy.qc.*`` over the market-wide ``qc`` group; off by default,
``share_inspected`` 0):

* **Inspection** (the state it changes: the order book's ``defect`` and ``life0``, before the
  cold chain). Each unit filled from a supplier today is inspected when its draw (stream
  ``qc.<category>.inspect``, at the household) is below ``share_inspected``; an inspected unit
  that is defective or relabelled old stock (its supplier's ``relabel_prob``, the procurement's
  own draw) is found with ``detection_prob`` (stream ``qc.<category>.detect``) and replaced by
  a sound fresh unit of the same supplier, at the supplier's cost: not defective, its relabel
  age given back. Fewer units that arrive spoiled or low on life reach households, so fewer
  complaints (quality complaints: low life).
* **Traceability.** A supplier found relabelling a unit of category c for platform j on a day
  keeps ``1 - volume_cut`` of its share of j's purchases of c (``supply.supplier_share``); the
  rest goes to the other suppliers of c in proportion to their shares (none if it is the only
  one).
* **Cost.** ``cost_yuan_per_unit`` per unit inspected, the ledger account ``qc_yuan``; the
  platforms table counts the units found, ``qc_rejected``.

A stock-mode platform inspects the lots it buys for its grid warehouse alike, on the day it buys
them (:meth:`inspect_lots`; its draws the stream ``qc.stock.<platform>.<category>``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["QualityControl"]


class QualityControl:
    """The quality-control programmes of one market (one per platform)."""

    OWNS = ("share", "cost", "detect", "cut")
    WRITES = ("today.order_book (defect, life0 of the units found)",
              "supply.supplier_share (a supplier caught relabelling)",
              "ledger (qc_yuan, qc_rejected)")

    def __init__(self, market):
        self.m = market
        own = [s.qc for s in market.strategies]
        self.share = np.array([s.share_inspected for s in own], float)
        self.cost = np.array([s.cost_yuan_per_unit for s in own], float)
        self.detect = np.array([s.detection_prob for s in own], float)
        self.cut = np.array([s.volume_cut for s in own], float)

    @property
    def on(self) -> bool:
        return bool((self.share > 0).any())

    def inspect(self, d: int, book, u_relabel: np.ndarray) -> None:
        """Inspect today's pre-sale units (the supply phase, after they are filled)."""
        if not self.on:
            return
        m, sup = self.m, self.m.supply
        rows, cats = np.nonzero(book.filled & ~book.from_stock[:, None])
        j = book.platform[rows].astype(np.int64)
        keep = self.share[j] > 0
        rows, cats, j = rows[keep], cats[keep], j[keep]
        n_p, n_c = len(self.share), len(m.category_names)
        names = ([f"qc.{c}.inspect" for c in m.category_names]
                 + [f"qc.{c}.detect" for c in m.category_names])
        u = m.streams.uniform_at_streams(names, d, book.consumer[rows])
        k = np.arange(len(rows))
        inspected = u[k, cats] < self.share[j]
        s = book.supplier[rows, cats]
        relabelled = u_relabel[rows, cats] < sup.sup_relabel_prob[s]
        bad = book.defect[rows, cats] | relabelled
        found = inspected & bad & (u[k, n_c + cats] < self.detect[j])
        book.defect[rows[found], cats[found]] = False
        back = found & relabelled
        book.life0[rows[back], cats[back]] += sup.sup_relabel_age[s[back]]
        n_insp = np.bincount(j[inspected], minlength=n_p)
        n_found = np.bincount(j[found], minlength=n_p)
        for p in m.platform_list:
            if n_insp[p.index]:
                self._book(p.index, int(n_insp[p.index]), int(n_found[p.index]))
        # Traceability: each (platform, category, supplier) caught relabelling today.
        n_s = sup.supplier_share.shape[2]
        caught = np.unique((j[back] * n_c + cats[back]) * n_s + s[back])
        for key in caught:
            pj, rest = divmod(int(key), n_c * n_s)
            ci, si = divmod(rest, n_s)
            self._cut(pj, ci, si)

    def inspect_lots(self, d: int, pj: int, ci: int, lots, u_relabel: np.ndarray) -> None:
        """Stock mode: inspect platform ``pj``'s purchase of category ``ci`` (``lots``, in
        place; ``u_relabel`` the purchase's own relabelling draws) as it is bought."""
        if self.share[pj] <= 0 or len(lots) == 0:
            return
        m, sup = self.m, self.m.supply
        name = f"qc.stock.{m.platform_names[pj]}.{m.category_names[ci]}"
        u = m.streams.generator(name, d).random((2, len(lots)))
        s = lots.supplier
        relabelled = u_relabel < sup.sup_relabel_prob[s]
        found = (u[0] < self.share[pj]) & (lots.defect | relabelled) & (u[1] < self.detect[pj])
        lots.defect[found] = False
        back = found & relabelled
        lots.life[back] += sup.sup_relabel_age[s[back]]
        self._book(pj, int((u[0] < self.share[pj]).sum()), int(found.sum()))
        for si in np.unique(s[back]):
            self._cut(pj, ci, int(si))

    def _book(self, pj: int, inspected: int, found: int) -> None:
        """The inspection's cost and the units it found, on platform ``pj``'s accounts."""
        self.m.ledger.post(pj, "qc_yuan", float(inspected * self.cost[pj]))
        self.m.ledger.post(pj, "qc_rejected", found)

    def _cut(self, pj: int, ci: int, si: int) -> None:
        """Supplier ``si`` keeps ``1 - volume_cut`` of its share of platform ``pj``'s category
        ``ci``; the others share the rest in proportion (the row keeps its sum)."""
        share = self.m.supply.supplier_share[pj, ci]
        others = share.sum() - share[si]
        if others <= 0:
            return
        moved = share[si] * self.cut[pj]
        share[si] -= moved
        mask = np.arange(len(share)) != si
        share[mask] += moved * share[mask] / others
