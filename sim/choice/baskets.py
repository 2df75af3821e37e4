"""Baskets: the categories a household buys on an order occasion (ODD 7.2).

On an occasion household i draws a basket: category c is in it when i's uniform for (c, day) is
below the category's purchase frequency b_c (``products.<c>.purchase_frequency``), so baskets
differ in size and mix; an empty draw takes the category whose uniform is smallest relative to
b_c (no resampling, so the basket stays a function of the household's own numbers). Fresh
produce is bought most often (seed 004 §4.2.1; seed 001), packaged goods least.

The uniforms are the full-length named streams ``orders.basket.<category>`` read at today's
choosers (:meth:`sim.streams.RandomStreams.uniform_at_streams`, counter-based: a household's
number depends on seed, category, day and household only), so two scenarios give a household
the same basket on the same day. The draw runs inside the compiled choice loop, written out
there (:func:`sim.choice.kernels.choice_utilities_rows`; equal to :func:`basket_mask`, bit for
bit, ``tests/test_kernels.py``); the order book keeps the buyers' baskets
(``OrderBook.basket``), and procurement, the cold chain, refunds, commission and the records
follow that mask.
"""

from __future__ import annotations

import numpy as np

__all__ = ["basket_mask", "basket_sizes"]


def basket_mask(u: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The basket rule for many occasions: ``u`` (m, C) uniforms, ``b`` (C,) purchase
    frequencies; returns the (m, C) bool baskets."""
    basket = u < b[None, :]
    empty = ~basket.any(axis=1)
    ratio = np.divide(u, b[None, :], out=np.full(u.shape, np.inf), where=b[None, :] > 0)
    basket[np.flatnonzero(empty), ratio[empty].argmin(axis=1)] = True
    return basket


def basket_sizes(basket: np.ndarray) -> np.ndarray:
    """Orders by basket size: entry k is the number of baskets of k categories (k = 0..C)."""
    n_c = basket.shape[1]
    if n_c < 256 and basket.flags.c_contiguous:  # a byte per size: 3x faster than a bool sum
        return np.bincount(basket.view(np.uint8) @ np.ones(n_c, np.uint8), minlength=n_c + 1)
    return np.bincount(basket.sum(axis=1), minlength=n_c + 1)
