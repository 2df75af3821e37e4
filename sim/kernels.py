"""Compiled loops (numba) for the work that whole-array NumPy does badly: ties and choosers.

The consumer phases are whole-array operations (DESIGN §5.2), but some of their steps touch a
small, scattered part of the arrays: the ties of the ~2.5% of households whose state changed
today, the neighbours of today's complainers, today's choosers and their order units, the
pre-sale queue, the order book's per-platform totals, the suppliers' allocation, the leader
phase's selections, the numbers of a full-length random stream at a few households. In NumPy
each such step is a chain of fancy-indexing passes (or a Python loop over a few platforms and
categories) that each allocate a temporary; here it is one loop over exactly the entries
concerned, compiled by numba
(``cache=True``: compiled once per machine, ~16 s, into ``sim/__pycache__``; loaded by each
process in ~0.25 s, see :func:`warm_up`). No Python loop runs over households (DESIGN §5.2):
these loops are machine code.

Every kernel computes the same IEEE operations, in the same order, as the NumPy formula it
stands for (no ``fastmath``, so no reassociation and no fused multiply-add), and leaves the
transcendental functions (``exp``, ``log``, ``pow``) to NumPy. The results are equal bit for bit
to the NumPy formulas of :mod:`sim.consumers`, :mod:`sim.network` and :mod:`sim.coldchain` and
to the NumPy code the model used before; ``tests/test_kernels.py`` checks each against that
code on random states. Float sums are NumPy's pairwise summation, re-done (:func:`_pairwise_sum`).

The model calls each kernel with the same argument types in every scenario, so that a machine
compiles one version of it: numba's cache index is updated without a lock, and two processes
compiling different versions at once (a sweep's first jobs) could corrupt it. A test checks it.
"""

from __future__ import annotations

import time

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = [
    "adoption_candidates",
    "allocate_units",
    "become_aware",
    "chain_losses",
    "changed_state_rows",
    "choice_probabilities",
    "choice_utilities_rows",
    "deliveries",
    "group_sums",
    "household_counts",
    "join_candidates",
    "lapse",
    "member_counts",
    "occasion_choosers",
    "pcg64_seeded",
    "pcg64_uniforms",
    "pcg64_uniforms_at",
    "presale_fill",
    "record_choices",
    "record_units",
    "recruit_candidates",
    "scatter_rows",
    "seed_sequence_states",
    "splitmix_uniforms",
    "spread_complaints",
    "unaware",
    "unserved",
    "warm_up",
]

_jit = numba.njit(cache=True, nogil=True)

# SplitMix64 constants (Steele, Lea and Flood 2014, "Fast splittable pseudorandom number
# generators", OOPSLA; the finaliser is Stafford's "Mix13"): the golden-ratio increment and the
# two multipliers of the 64-bit mixing function (sim.streams.RandomStreams.uniform_at).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_M32 = np.uint64(0xFFFFFFFF)  # the low 32 bits of a word


@_jit
def splitmix_uniforms(keys, index):
    """``out[r, k]``: household ``index[r]``'s uniform in [0, 1) for the stream keyed ``keys[k]``.

    SplitMix64 of ``key + (i + 1) * golden``, top 53 bits / 2**53: the numbers of
    :meth:`sim.streams.RandomStreams.uniform_at`, several streams in one pass.
    """
    m, n_k = index.shape[0], keys.shape[0]
    out = np.empty((m, n_k))
    one = np.uint64(1)
    s30, s27, s31, s11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
    scale = 1.0 / 9007199254740992.0
    for r in range(m):
        base = (np.uint64(index[r]) + one) * _GOLDEN
        for k in range(n_k):
            z = base + keys[k]
            z ^= z >> s30
            z *= _MIX1
            z ^= z >> s27
            z *= _MIX2
            z ^= z >> s31
            out[r, k] = np.float64(z >> s11) * scale
    return out


# PCG64 (O'Neill 2014, "PCG: a family of simple fast space-efficient statistically good
# algorithms for random number generation", HMC-CS-2014-0905): a 128-bit LCG, state' = state *
# MULT + inc, output XSL-RR. MULT is PCG_DEFAULT_MULTIPLIER_128 of numpy/random/src/pcg64/
# pcg64.h, the generator behind sim.streams.RandomStreams.uniform.
_PCG_MULT_HI = np.uint64(0x2360ED051FC65DA4)
_PCG_MULT_LO = np.uint64(0x4385DF649FCCF645)
# A run of at most this many steps between two wanted numbers is stepped through; a longer one
# is jumped (one multiply-add per set bit of its length). Measured at 100k households and 1% to
# 100% of them wanted: limits from 1 to 16 cost the same within noise. It changes the time,
# never the numbers.
_PCG_STEP_MAX = 4
# Below this share of the span (wanted numbers / largest index + 1) the numbers are reached by
# jumps; above it every number up to the largest is generated in sequence (~1.2 ns each,
# _pcg64_sequence) and the wanted ones gathered. Measured at 100k: the sequence and gather cost
# ~130 us, the jumps ~21 ns per wanted number (mostly mispredicted branches, one per wanted
# number), so the two cost the same near 1/16 (1/8 when the sequence took ~1.6 ns a number).
_PCG_DENSE_SHARE = 0.0625
# A sequence of fewer than four times this many numbers is generated in one lane: the lanes'
# jumps (the 2**b-step maps tabled first, then up to 64 multiply-adds a lane) cost more than
# the lanes save. Measured: at 1,024 numbers (this limit) one lane and four cost the same
# (2.6 us); at 4,096 the lanes cost 20% less, at 100k 30% less.
_PCG_LANE_MIN = 256


@intrinsic
def _muladd128(typingctx, a_hi, a_lo, x_hi, x_lo, c_hi, c_lo):
    """``a * x + c`` modulo 2**128, each number as its (high, low) 64-bit words.

    Done in LLVM's 128-bit integers, which x86-64 compiles to three 64-bit multiplies (one of
    them the full 64 x 64 -> 128 bit ``mul``); numba has no 128-bit type, and the same product
    built from 32-bit halves took four multiplies more (the dense draw at 100k: 192 -> 173 us)."""
    u64 = numba.types.uint64

    def codegen(context, builder, signature, args):
        i64, i128 = ir.IntType(64), ir.IntType(128)
        shift = ir.Constant(i128, 64)

        def wide(hi, lo):
            return builder.or_(builder.shl(builder.zext(hi, i128), shift), builder.zext(lo, i128))

        r = builder.add(builder.mul(wide(args[0], args[1]), wide(args[2], args[3])),
                        wide(args[4], args[5]))
        hi, lo = builder.trunc(builder.lshr(r, shift), i64), builder.trunc(r, i64)
        return context.make_tuple(builder, signature.return_type, [hi, lo])
    return numba.types.UniTuple(u64, 2)(u64, u64, u64, u64, u64, u64), codegen


@_jit
def _pcg64_double(s_hi, s_lo):
    """PCG64's output (XSL-RR) of a state, as NumPy's ``random()`` makes it a double: the top 53
    bits over 2**53."""
    v = s_hi ^ s_lo
    rot = s_hi >> np.uint64(58)
    x = (v >> rot) | (v << ((np.uint64(64) - rot) & np.uint64(63)))
    return np.float64(np.int64(x >> np.uint64(11))) * (1.0 / 9007199254740992.0)


@_jit
def _pcg64_jumps(inc_hi, inc_lo):
    """The maps of 2**b steps of PCG64's LCG (increment ``inc``), b = 0..63: x -> MULT x + inc
    applied 2**b times is x -> jm[b] x + jp[b] (O'Neill's ``pcg_advance_lcg_128``), as four
    arrays of words (jm high, jm low, jp high, jp low)."""
    zero, one = np.uint64(0), np.uint64(1)
    jm_hi, jm_lo = np.empty(64, np.uint64), np.empty(64, np.uint64)
    jp_hi, jp_lo = np.empty(64, np.uint64), np.empty(64, np.uint64)
    m_hi, m_lo, p_hi, p_lo = _PCG_MULT_HI, _PCG_MULT_LO, inc_hi, inc_lo
    for b in range(64):
        jm_hi[b], jm_lo[b], jp_hi[b], jp_lo[b] = m_hi, m_lo, p_hi, p_lo
        a_hi, a_lo = _muladd128(zero, one, m_hi, m_lo, zero, one)  # MULT^(2^b) + 1
        p_hi, p_lo = _muladd128(a_hi, a_lo, p_hi, p_lo, zero, zero)
        m_hi, m_lo = _muladd128(m_hi, m_lo, m_hi, m_lo, zero, zero)
    return jm_hi, jm_lo, jp_hi, jp_lo


@_jit
def _pcg64_advance(s_hi, s_lo, steps, jumps):
    """The state ``steps`` (>= 0) steps after ``s``: the maps of ``jumps`` (:func:`_pcg64_jumps`)
    of the set bits of ``steps``."""
    jm_hi, jm_lo, jp_hi, jp_lo = jumps
    one = np.uint64(1)
    delta = np.uint64(steps)
    b = 0
    while delta:
        if delta & one:
            s_hi, s_lo = _muladd128(jm_hi[b], jm_lo[b], s_hi, s_lo, jp_hi[b], jp_lo[b])
        delta >>= one
        b += 1
    return s_hi, s_lo


@_jit
def _pcg64_sequence(s_hi, s_lo, inc_hi, inc_lo, n):
    """The first ``n`` numbers of PCG64 from state ``s`` (number ``i`` from the state after
    ``i + 1`` steps), as NumPy's ``random(n)``.

    Four stretches of the sequence are generated side by side, each lane's state first jumped to
    its stretch's start: one lane's steps are a chain of dependent multiplies, four independent
    chains keep the multiplier busy (100k numbers: ~170 -> ~120 us). The numbers are the same."""
    seq = np.empty(n)
    q = (n + 3) // 4  # numbers per lane; the last lane's stretch may be shorter
    if q < _PCG_LANE_MIN:
        for i in range(n):
            s_hi, s_lo = _muladd128(_PCG_MULT_HI, _PCG_MULT_LO, s_hi, s_lo, inc_hi, inc_lo)
            seq[i] = _pcg64_double(s_hi, s_lo)
        return seq
    jumps = _pcg64_jumps(inc_hi, inc_lo)
    a_hi, a_lo = s_hi, s_lo
    b_hi, b_lo = _pcg64_advance(s_hi, s_lo, q, jumps)
    c_hi, c_lo = _pcg64_advance(s_hi, s_lo, 2 * q, jumps)
    d_hi, d_lo = _pcg64_advance(s_hi, s_lo, 3 * q, jumps)
    last = n - 3 * q  # the last lane's numbers, 1 to q
    for k in range(q):
        a_hi, a_lo = _muladd128(_PCG_MULT_HI, _PCG_MULT_LO, a_hi, a_lo, inc_hi, inc_lo)
        b_hi, b_lo = _muladd128(_PCG_MULT_HI, _PCG_MULT_LO, b_hi, b_lo, inc_hi, inc_lo)
        c_hi, c_lo = _muladd128(_PCG_MULT_HI, _PCG_MULT_LO, c_hi, c_lo, inc_hi, inc_lo)
        d_hi, d_lo = _muladd128(_PCG_MULT_HI, _PCG_MULT_LO, d_hi, d_lo, inc_hi, inc_lo)
        seq[k] = _pcg64_double(a_hi, a_lo)
        seq[q + k] = _pcg64_double(b_hi, b_lo)
        seq[2 * q + k] = _pcg64_double(c_hi, c_lo)
        if k < last:
            seq[3 * q + k] = _pcg64_double(d_hi, d_lo)
    return seq


@_jit
def pcg64_uniforms_at(state, index):
    """``Generator(PCG64 in state).random(n)[index]`` for any ``n`` above ``index.max()``, equal
    bit for bit, without generating the numbers nobody needs.

    ``state``: PCG64's state and increment as four uint64 words (state high, state low, inc
    high, inc low), as in ``PCG64.state``. The ``i``-th number comes from the state after
    ``i + 1`` steps. When the indices are few for their span, the state jumps from one wanted
    index to the next (:func:`_pcg64_advance`); otherwise every number up to the largest index
    is generated (:func:`_pcg64_sequence`) and the wanted ones gathered. Any order and repeats
    are allowed.
    """
    s_hi, s_lo, inc_hi, inc_lo = state[0], state[1], state[2], state[3]
    m = index.shape[0]
    out = np.empty(m)
    if m == 0:
        return out
    top = index[0]
    ascending = True
    for k in range(m):
        if index[k] < 0:
            raise ValueError("pcg64_uniforms_at: an index is negative")
        if k > 0 and index[k] < index[k - 1]:
            ascending = False
        top = max(top, index[k])
    if m >= _PCG_DENSE_SHARE * (top + 1):
        seq = _pcg64_sequence(s_hi, s_lo, inc_hi, inc_lo, top + 1)
        for k in range(m):
            out[k] = seq[index[k]]
        return out
    jumps = _pcg64_jumps(inc_hi, inc_lo)
    order = np.arange(m) if ascending else np.argsort(index, kind="mergesort")
    pos = 0  # steps taken
    last = 0.0
    for k in range(m):
        r = order[k]
        steps = index[r] + 1 - pos
        if steps == 0:  # a repeated index
            out[r] = last
            continue
        if steps <= _PCG_STEP_MAX:
            for _ in range(steps):
                s_hi, s_lo = _muladd128(_PCG_MULT_HI, _PCG_MULT_LO, s_hi, s_lo, inc_hi, inc_lo)
        else:
            s_hi, s_lo = _pcg64_advance(s_hi, s_lo, steps, jumps)
        pos = index[r] + 1
        last = _pcg64_double(s_hi, s_lo)
        out[r] = last
    return out


# Software prefetch for the kernels that follow a list of households' ties. Their reads land
# all over arrays that the rest of the day has pushed out of the caches (at 100k households the
# day touches ~40 MB): measured at 100k with 64 MB touched between calls, scatter_rows took 0.93
# ms with its data cold and 0.25 ms warm. Asking for the lines a few rows ahead lets those misses
# overlap (0.62 ms cold). A hint only: it reads nothing into the program and changes no result.
_PREFETCH_AHEAD = 8  # rows ahead; 2 to 16 measured the same within noise (0.61-0.63 ms)
_PREFETCH_SPAN = 6  # households either side of a row whose lines are asked for (median tie: 4)


@intrinsic
def _prefetch(typingctx, arr, i):
    """Ask for the cache line holding ``arr[i]``, the start of row ``i`` when ``arr`` has more
    than one dimension (``llvm.prefetch``: read, keep in all levels); ``i`` must be a valid
    index of the first axis."""
    def codegen(context, builder, signature, args):
        ty = signature.args[0]
        ary = context.make_array(ty)(context, builder, args[0])
        zero = context.get_constant(numba.types.intp, 0)
        ptr = cgutils.get_item_pointer(context, builder, ty, ary,
                                       [args[1]] + [zero] * (ty.ndim - 1), wraparound=False)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return numba.types.void(arr, numba.types.intp), codegen


@_jit
def _ahead(rows, r, k):
    """``rows[r + k]``, the last of ``rows`` near the end: a valid index to prefetch at."""
    return rows[min(r + k, rows.shape[0] - 1)]


@_jit
def _prefetch_row(indptr, indices, data, rows, r, near):
    """Prefetch for the row ``_PREFETCH_AHEAD`` after ``r`` in ``rows``: its ties (the
    ``indptr`` entry of the one twice as far, then ``indices`` and ``data``) and the rows of
    ``near`` around it, where most of its neighbours are."""
    _prefetch(indptr, _ahead(rows, r, 2 * _PREFETCH_AHEAD))
    i = _ahead(rows, r, _PREFETCH_AHEAD)
    e = indptr[i]
    if e < indices.shape[0]:  # a last household without ties starts at the end
        _prefetch(indices, e)
        _prefetch(data, e)
    _prefetch(near, max(i - _PREFETCH_SPAN, 0))
    _prefetch(near, min(i + _PREFETCH_SPAN, near.shape[0] - 1))


# The kernels that gather or scatter household rows at a list of households (today's choosers,
# orders, candidates: ascending, ~1 in 10) miss the same way, one line per household and array.
# Measured at 100k (day 180, 64 MB touched between calls; median ms, old -> new): deliveries
# 0.80 -> 0.43, choice_utilities_rows 0.51 -> 0.35 (warm 0.20 -> 0.17), occasion_choosers 0.50
# -> 0.43, adoption_candidates 0.48 -> 0.41, record_choices 0.34 -> 0.30, become_aware (3 calls)
# 0.22 -> 0.19; warm no slower. lapse (a few percent of households) gained nothing.
_GATHER_AHEAD = 16  # households ahead; 8 gained less (become_aware, adoption_candidates)




@_jit
def scatter_rows(indptr, indices, data, rows, x_rows, out):
    """``out += A[:, rows] @ x_rows`` for a CSR adjacency ``A`` (symmetric: ``A[rows].T``).

    Each tie of each listed household adds its row of ``x_rows`` to the neighbour's row of
    ``out``. For the 0/1 counts of word of mouth every partial sum is an exact integer in
    float32, so the result equals the sparse product whatever the order of the additions.
    """
    n_cols = x_rows.shape[1]
    for r in range(rows.shape[0]):
        _prefetch_row(indptr, indices, data, rows, r, out)
        i = rows[r]
        for e in range(indptr[i], indptr[i + 1]):
            k = indices[e]
            w = data[e]
            for c in range(n_cols):
                out[k, c] += w * x_rows[r, c]


@_jit
def spread_complaints(indptr, indices, data, rows, x_rows, trust, heard, fade, loss_table,
                      scratch):
    """Complaints reach the complainers' neighbours: trust falls, complaints heard fade and add.

    ``h = A[:, rows] @ x_rows`` (complaints about each platform heard today, per household);
    then ``trust[i, j] *= loss_table[h_ij]`` where ``h_ij > 0`` (``loss_table[h] = (1 -
    complaint_trust_loss) ** h``, computed by NumPy; an empty table leaves trust alone) and
    ``heard <- heard * fade + sum_j h_ij`` for every household (:func:`sim.consumers.
    decay_complaints`). ``scratch`` (n, P) float32 is zero on entry and left zero; each row of
    ``x_rows`` has a complaint. Returns the number of households that heard one today.
    """
    n_p = x_rows.shape[1]
    n_ties = 0
    for r in range(rows.shape[0]):
        n_ties += indptr[rows[r] + 1] - indptr[rows[r]]
    hit = np.empty(n_ties, np.int64)
    n_hit = 0
    for r in range(rows.shape[0]):
        _prefetch_row(indptr, indices, data, rows, r, scratch)
        i = rows[r]
        for e in range(indptr[i], indptr[i + 1]):
            k = indices[e]
            w = data[e]
            fresh = True  # first complaint this household hears today: its row is still zero
            for c in range(n_p):
                if scratch[k, c] != 0:
                    fresh = False
                scratch[k, c] += w * x_rows[r, c]
            if fresh:
                hit[n_hit] = k
                n_hit += 1
    for i in range(heard.shape[0]):
        heard[i] = heard[i] * fade
    use_table = loss_table.shape[0] > 0
    hits = hit[:n_hit]
    for t in range(n_hit):
        _prefetch(trust, _ahead(hits, t, _PREFETCH_AHEAD))
        k = hits[t]
        new = 0.0
        for c in range(n_p):
            h = scratch[k, c]
            if h > 0 and use_table:
                trust[k, c] = trust[k, c] * loss_table[np.int64(h)]
            new += np.float64(h)
            scratch[k, c] = 0.0
        heard[k] = heard[k] + new
    return n_hit


@_jit
def _flag_buffer(n):
    """Zeroed 0/1 flags for ``n`` households, padded with zeros to whole 8-byte words
    (:func:`_flagged`)."""
    return np.zeros((n + 7) // 8 * 8, np.uint8)


@_jit
def _flagged(flags):
    """``flatnonzero(flags)`` for 0/1 flags from :func:`_flag_buffer`, ascending. Eight flags
    are tested at once as a word: a word of zeros (most of them when few households are
    flagged) is skipped with one branch, the others are compacted without branches (no
    mispredictions when many are flagged)."""
    words = flags.view(np.uint64)
    out = np.empty(flags.shape[0], np.int64)
    m = 0
    for w in range(words.shape[0]):
        if words[w] != 0:
            for i in range(8 * w, 8 * w + 8):
                out[m] = i
                m += flags[i]
    return out[:m].copy()


@_jit
def occasion_choosers(adopted, order_rate, in_village, demand_town, demand_village,
                      leader_of, promotion, u_occ, aware, active):
    """Today's order occasions and the households that can act on them (DESIGN §4.2).

    Rate ``order_rate_i * demand_i * (1 + promotion * [i has a leader])``; an adopter has an
    occasion when its uniform is below it. A chooser is a household with an occasion and at
    least one reachable platform (aware of it, a leader of it, the platform active). Returns
    (number of occasions, choosers' indices, their reachable platforms (m, P) bool).
    """
    n, n_p = leader_of.shape
    # The adopters with an occasion even at the promoted rate (rounding is monotone), flagged
    # in one pass without branches; the leader lookup and the rest are done for them alone.
    ad = adopted.view(np.uint8)
    flags = _flag_buffer(n)
    if promotion >= 0.0:
        for i in range(n):
            demand = demand_village if in_village[i] else demand_town
            flags[i] = ad[i] & np.uint8(u_occ[i] < order_rate[i] * demand * (1.0 + promotion))
    else:
        flags[:n] = ad
    cand = _flagged(flags)
    idx = np.empty(cand.shape[0], np.int64)
    reach = np.empty((cand.shape[0], n_p), np.bool_)
    n_occ = 0
    m = 0
    for r in range(cand.shape[0]):
        ia = _ahead(cand, r, _GATHER_AHEAD)
        _prefetch(leader_of, ia)
        _prefetch(aware, ia)
        i = cand[r]
        demand = demand_village if in_village[i] else demand_town
        base = order_rate[i] * demand
        has_leader = False
        for j in range(n_p):
            if leader_of[i, j] >= 0:
                has_leader = True
        rate = base * (1.0 + promotion * (1.0 if has_leader else 0.0))
        if not u_occ[i] < rate:
            continue
        n_occ += 1
        can = False
        for j in range(n_p):
            ok = aware[i, j] and leader_of[i, j] >= 0 and active[j]
            reach[m, j] = ok
            can = can or ok
        if can:
            idx[m] = i
            m += 1
    return n_occ, idx[:m].copy(), reach[:m].copy()


@_jit
def choice_utilities_rows(idx, price_index, coupon_all, coupon_new, reference_basket_yuan,
                          day_last_order_p, beta_all, trust_all, last_platform, quality,
                          reach, trust_weight, habit, outside_utility):
    """Utilities of the choosers ``idx`` less each row's maximum, and their coupons.

    The formula of :func:`sim.consumers.choice_utilities` with the coupon of ``phase_orders``
    (the everyday coupon plus the first-order coupon for a household that never ordered from the
    platform): ``V_ij = -beta_i (price_j - coupon_ij / ref) + theta trust_ij + kappa [j ==
    last_i] + alpha_j``, ``V_i0 = u_outside``, ``-inf`` where unreachable. Returns
    ``(V - max_k V_ik, max_k V_ik, coupon_yuan)``, to be exponentiated by NumPy.
    """
    m, n_p = idx.shape[0], price_index.shape[0]
    z = np.empty((m, n_p + 1))
    vmax = np.empty(m)
    coupon = np.empty((m, n_p))
    for r in range(m):
        ia = _ahead(idx, r, _GATHER_AHEAD)
        _prefetch(day_last_order_p, ia)
        _prefetch(beta_all, ia)
        _prefetch(trust_all, ia)
        _prefetch(last_platform, ia)
        i = idx[r]
        b = -beta_all[i]
        last = last_platform[i]
        z[r, 0] = outside_utility
        for j in range(n_p):
            new_user = 1.0 if day_last_order_p[i, j] < 0 else 0.0
            cy = coupon_all[j] + coupon_new[j] * new_user
            coupon[r, j] = cy
            v = b * (price_index[j] - cy / reference_basket_yuan) \
                + trust_weight * trust_all[i, j] + quality[j]
            if habit != 0.0 and last == j:
                v = v + habit
            z[r, j + 1] = v if reach[r, j] else -np.inf
        top = z[r, 0]
        for k in range(1, n_p + 1):
            if z[r, k] > top:
                top = z[r, k]
        vmax[r] = top
        for k in range(n_p + 1):
            z[r, k] = z[r, k] - top
    return z, vmax, coupon


@_jit
def choice_probabilities(w, u):
    """Logit choice by inversion on ``w = exp(V - max V)``, and each row's sum of ``w``.

    The option of :func:`sim.consumers.choose`: the number of cumulative probabilities
    ``cumsum(w) / sum(w)`` at or below the chooser's uniform ``u`` (capped at the last option);
    the sum, left to right as NumPy sums a short row, feeds the logsum
    (:func:`sim.consumers.logsum_surplus_yuan`).
    """
    m, n_o = w.shape
    k_out = np.empty(m, np.int64)
    total_out = np.empty(m)
    for r in range(m):
        s = w[r, 0]
        for k in range(1, n_o):
            s = s + w[r, k]
        # The partial sums again, in the same order (equal to the first pass's). As w >= 0 they
        # never decrease, nor do their quotients by s: the last, s / s, cannot count below the
        # cap, and is left out (a division each).
        cum = w[r, 0]
        count = 0
        for k in range(n_o - 1):
            if k > 0:
                cum = cum + w[r, k]
            count += cum / s <= u[r]
        k_out[r] = min(count, n_o - 1)
        total_out[r] = s
    return k_out, total_out


@_jit
def changed_state_rows(adopted, is_leader, day_last_order_p, d, recent_days, st_adopted,
                       st_leader, st_recent, n_cols):
    """Households whose counted state changed since the last call, and the change of their row.

    The state of word of mouth's neighbour counts (``GroupBuyingMarket._neighbour_counts``):
    adopted, leads a group, and for each platform whether its last order from that platform is
    at most ``recent_days`` old (ODD 7.1: "ordered from j in the last 30 days"). ``st_*`` hold
    the state counted so far (``st_recent`` (n, P) bool) and are brought up to date. Returns the
    rows and ``X_new[rows] - X_old[rows]`` for the 0/1 matrix ``X`` (adopted, leader, one column
    per platform), float32.
    """
    n, n_p = day_last_order_p.shape
    # The changes flagged in passes without branches, over the households and over the (n, P)
    # entries as one flat run; only the few changed rows (~2.5% a day) are visited.
    ad, le = adopted.view(np.uint8), is_leader.view(np.uint8)
    st_ad, st_le = st_adopted.view(np.uint8), st_leader.view(np.uint8)
    flags = _flag_buffer(n)
    for i in range(n):
        flags[i] = (ad[i] ^ st_ad[i]) | (le[i] ^ st_le[i])
    last = day_last_order_p.reshape(n * n_p)
    st_rec = st_recent.view(np.uint8).reshape(n * n_p)
    entry = _flag_buffer(n * n_p)
    for e in range(n * n_p):
        dlo = last[e]
        entry[e] = np.uint8((dlo >= 0) & (d - dlo <= recent_days)) ^ st_rec[e]
    for e in _flagged(entry):
        flags[e // n_p] = 1
    rows = _flagged(flags)
    m = rows.shape[0]
    delta = np.zeros((m, n_cols), np.float32)
    for r in range(m):
        i = rows[r]
        delta[r, 0] = np.float32(adopted[i]) - np.float32(st_adopted[i])
        delta[r, 1] = np.float32(is_leader[i]) - np.float32(st_leader[i])
        for j in range(n_p):
            dlo = day_last_order_p[i, j]
            now = dlo >= 0 and d - dlo <= recent_days
            delta[r, 2 + j] = np.float32(now) - np.float32(st_recent[i, j])
            st_recent[i, j] = now
        st_adopted[i] = adopted[i]
        st_leader[i] = is_leader[i]
    return rows, delta


@_jit
def lapse(adopted, is_leader, day_last_order, day_adopted, trust, d, lapse_days, lapse_trust):
    """Adopters who have not ordered (or adopted) for ``lapse_days`` and trust no platform above
    ``lapse_trust`` stop using group buying (DESIGN §4.1, ODD §7.1); leaders never lapse. The
    wait starts at the later of the last order and the adoption, so a household that lapsed and
    adopts again has ``lapse_days`` to order before it can lapse again. Returns how many
    lapsed."""
    n, n_p = trust.shape
    # The adopters who waited long enough (a few percent), flagged in one pass without
    # branches; only their trust is read.
    ad, le = adopted.view(np.uint8), is_leader.view(np.uint8)
    flags = _flag_buffer(n)
    for i in range(n):
        last = max(day_last_order[i], day_adopted[i])
        flags[i] = ad[i] & (le[i] ^ np.uint8(1)) & np.uint8(d - last > lapse_days)
    k = 0
    for i in _flagged(flags):
        top = trust[i, 0]
        for j in range(1, n_p):
            if trust[i, j] > top:
                top = trust[i, j]
        if top < lapse_trust:
            adopted[i] = False
            k += 1
    return k


@_jit
def unaware(aware, j):
    """Households not aware of platform ``j``, ascending: ``flatnonzero(~aware[:, j])``."""
    n = aware.shape[0]
    aw = aware.view(np.uint8)
    flags = _flag_buffer(n)
    for i in range(n):  # no branches: the unaware can be anything from none to all
        flags[i] = aw[i, j] ^ np.uint8(1)
    return _flagged(flags)


@_jit
def become_aware(aware, j, own_rate, imitation, users_neighbours, degree, from_leader,
                 leader_of, cand, u):
    """Households ``cand`` (not yet aware of platform ``j``: :func:`unaware`) become aware with
    the probability of :func:`sim.consumers.awareness_probability`, compared with their
    uniforms ``u`` (``u[r]`` is ``cand[r]``'s):
    ``own + imitation * U_ij / k_i + from_leader * [i has a leader of j]``, the imitation term 0
    where ``k_i = 0``; ``U_ij / k_i`` is a float32 quotient, as NumPy divides the float32
    counts. Returns how many became aware."""
    k = 0
    for r in range(cand.shape[0]):
        ia = _ahead(cand, r, _GATHER_AHEAD)
        _prefetch(users_neighbours, ia)
        _prefetch(degree, ia)
        _prefetch(leader_of, ia)
        _prefetch(aware, ia)
        i = cand[r]
        frac = 0.0
        if degree[i] > 0:
            frac = np.float64(np.float32(np.float64(users_neighbours[i])
                                         / np.float64(degree[i])))
        has_leader = 1.0 if leader_of[i, j] >= 0 else 0.0
        p = own_rate + imitation * frac + from_leader * has_leader
        if u[r] < p:
            aware[i, j] = True
            k += 1
    return k


@_jit
def adoption_candidates(adopted, reach_k, neighbourhood, adopted_neighbours, leader_neighbours,
                        degree, p_scale, p_external, q_imitation, leader_boost):
    """Households that have not adopted, and their adoption probability before complaints.

    ``p * p_scale_i * reach_i + q * A_i / k_i + leader_boost * [a leader neighbour]`` of
    :func:`sim.consumers.adoption_probability` (the imitation term 0 where ``k_i = 0``); the
    caller applies the complaints factor (a power, left to NumPy) and the clip to [0, 1].
    """
    n = adopted.shape[0]
    ad = adopted.view(np.uint8)
    flags = _flag_buffer(n)
    for i in range(n):  # the households first, without branches (any share can have adopted)
        flags[i] = ad[i] ^ np.uint8(1)
    cand = _flagged(flags)
    prob = np.empty(cand.shape[0])
    for r in range(cand.shape[0]):
        ia = _ahead(cand, r, _GATHER_AHEAD)
        _prefetch(degree, ia)
        _prefetch(adopted_neighbours, ia)
        _prefetch(p_scale, ia)
        _prefetch(neighbourhood, ia)
        _prefetch(leader_neighbours, ia)
        i = cand[r]
        frac = 0.0
        if degree[i] > 0:
            frac = np.float64(adopted_neighbours[i]) / np.float64(degree[i])
        p = p_external * p_scale[i] * reach_k[neighbourhood[i]] + q_imitation * frac
        if leader_boost != 0.0:
            p = p + leader_boost * (1.0 if leader_neighbours[i] > 0 else 0.0)
        prob[r] = p
    return cand, prob


@_jit
def _block_sum(a, start, n):
    """``a[start:start + n].sum()`` for ``n <= 128``, as NumPy adds a contiguous float64 run:
    one by one below 8, else eight accumulators combined as a tree, then the rest
    (numpy/_core/src/umath/loops_utils.h.src, ``pairwise_sum``)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[start + i]
        return res
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        k = start + i
        r0 += a[k]
        r1 += a[k + 1]
        r2 += a[k + 2]
        r3 += a[k + 3]
        r4 += a[k + 4]
        r5 += a[k + 5]
        r6 += a[k + 6]
        r7 += a[k + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[start + i]
        i += 1
    return res


@_jit
def _pairwise_sum(a, start, n):
    """``a[start:start + n].sum()`` as NumPy sums a contiguous float64 run, to the last bit:
    runs of more than 128 are halved (the first half a multiple of 8 long) and the halves'
    sums added, down to blocks of at most 128 (:func:`_block_sum`). NumPy recurses; here an
    explicit stack does the same (numba's cache cannot load recursive functions)."""
    if n <= 128:
        return _block_sum(a, start, n)
    depth = 2 * (64 + 1)
    lo = np.empty(depth, np.int64)  # the pending runs: start, length, halves done (0-2)
    ln = np.empty(depth, np.int64)
    done = np.empty(depth, np.int64)
    sums = np.empty(depth)  # finished halves, left below right
    top, n_sums = 0, 0
    lo[0], ln[0], done[0] = start, n, 0
    while top >= 0:
        s, k = lo[top], ln[top]
        if k <= 128:
            sums[n_sums] = _block_sum(a, s, k)
            n_sums += 1
            top -= 1
            continue
        half = k // 2
        half -= half % 8
        if done[top] == 0:
            done[top] = 1
            top += 1
            lo[top], ln[top], done[top] = s, half, 0
        elif done[top] == 1:
            done[top] = 2
            top += 1
            lo[top], ln[top], done[top] = s + half, k - half, 0
        else:
            n_sums -= 1
            sums[n_sums - 1] = sums[n_sums - 1] + sums[n_sums]
            top -= 1
    return sums[0]


@_jit
def group_sums(values, row_group, cell_group, n_groups):
    """``values[group == g].sum()`` for each ``g`` in ``range(n_groups)``, in one pass.

    ``values`` is (m, k) float64; the group of cell (r, c) is ``cell_group[r, c]`` or, when
    ``cell_group`` is empty, ``row_group[r]``; a negative group is left out. Each group's values
    are gathered in row-major order, as a boolean mask selects them, and summed pairwise as
    NumPy sums the selection (:func:`_pairwise_sum`), so each sum equals NumPy's bit for bit.
    """
    m, k = values.shape
    per_cell = cell_group.shape[0] > 0
    size = np.zeros(n_groups + 1, np.int64)
    if per_cell:
        for r in range(m):
            for c in range(k):
                g = cell_group[r, c]
                if g >= 0:
                    size[g + 1] += 1
    else:  # a row's cells go together: counted and copied once per row
        for r in range(m):
            g = row_group[r]
            if g >= 0:
                size[g + 1] += k
    for g in range(n_groups):
        size[g + 1] += size[g]
    buf = np.empty(size[n_groups])
    fill = size[:n_groups].copy()
    for r in range(m):
        if per_cell:
            for c in range(k):
                g = cell_group[r, c]
                if g >= 0:
                    buf[fill[g]] = values[r, c]
                    fill[g] += 1
        else:
            g = row_group[r]
            if g >= 0:
                at = fill[g]
                for c in range(k):
                    buf[at + c] = values[r, c]
                fill[g] = at + k
    out = np.empty(n_groups)
    for g in range(n_groups):
        out[g] = _pairwise_sum(buf, size[g], size[g + 1] - size[g])
    return out


@_jit
def member_counts(leader_col, n_leaders):
    """``np.bincount(leader_col[leader_col >= 0], minlength=n_leaders)``: each leader's
    members on one platform (``leader_col``: each household's leader there, -1 none)."""
    out = np.zeros(n_leaders, np.int64)
    for i in range(leader_col.shape[0]):
        if leader_col[i] >= 0:
            out[leader_col[i]] += 1
    return out


@_jit
def unserved(leader_col, room, neighbourhood):
    """Households without a leader on the platform whose neighbourhood has room in some
    group: ``flatnonzero((leader_col < 0) & (room[neighbourhood] > 0))``."""
    n = leader_col.shape[0]
    out = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        if leader_col[i] < 0 and room[neighbourhood[i]] > 0:
            out[m] = i
            m += 1
    return out[:m].copy()


@_jit
def join_candidates(share, neighbourhood, leader_col, is_new):
    """Households that may join one of their neighbourhood's new leaders (``GroupBuyingMarket.
    _form_groups``): the new leaders' share of the neighbourhood is positive and they are not
    already in a new leader's group, ``flatnonzero((share[nb] > 0) & ~(is_new[max(col, 0)] &
    (col >= 0)))``. Those whose uniform is below the share join."""
    n = neighbourhood.shape[0]
    out = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        if share[neighbourhood[i]] > 0.0 and not (leader_col[i] >= 0
                                                  and is_new[leader_col[i]]):
            out[m] = i
            m += 1
    return out[:m].copy()


@_jit
def recruit_candidates(leader_candidate, is_leader, available_day, d, deficit, neighbourhood):
    """Households a platform can recruit today: candidates, not leading a group, available
    (a former leader waits), in a neighbourhood short of leaders (``sim.leaders.
    pick_recruits``'s ``flatnonzero(eligible & (deficit[nb] > 0))``)."""
    n = leader_candidate.shape[0]
    out = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        if (leader_candidate[i] and not is_leader[i] and available_day[i] <= d
                and deficit[neighbourhood[i]] > 0):
            out[m] = i
            m += 1
    return out[:m].copy()


@_jit
def _split_by_weights(total, w, out):
    """``sim.suppliers.split_by_weights`` into ``out``: ``floor(total * w / sum(w))``, then one
    more unit to the largest remainders (ties: the first), as the NumPy version computes it."""
    out[:] = 0
    k = w.shape[0]
    w_sum = _block_sum(w, 0, k)  # NumPy's sum of a short row (k <= 128)
    if total <= 0 or w_sum <= 0:
        return
    exact = np.empty(k)
    given = 0
    for i in range(k):
        exact[i] = np.float64(total) * w[i] / w_sum
        out[i] = np.int64(np.floor(exact[i]))
        given += out[i]
    rest = total - given
    taken = np.zeros(k, np.bool_)
    for _ in range(rest):  # the largest remainder not yet taken; the first of equals
        best = -1
        for i in range(k):
            if not taken[i] and (best < 0 or exact[i] - out[i] > exact[best] - out[best]):
                best = i
        taken[best] = True
    for i in range(k):
        if taken[i]:
            out[i] += 1


@_jit
def _ration(requests, capacity, out):
    """``sim.suppliers.ration`` into ``out``: the requests in full if they fit, else split
    pro rata to them (and never above them)."""
    total = 0
    for i in range(requests.shape[0]):
        total += requests[i]
    if total <= capacity:
        out[:] = requests
        return
    _split_by_weights(max(capacity, 0), requests.astype(np.float64), out)
    for i in range(out.shape[0]):
        out[i] = min(out[i], requests[i])


@_jit
def allocate_units(demand, share, capacity):
    """:func:`sim.suppliers.allocate` (its docstring has the rule): units each supplier
    delivers to each platform, (P, C, S), in integers, with the NumPy version's arithmetic."""
    n_p, n_c, n_s = share.shape
    alloc = np.zeros((n_p, n_c, n_s), np.int64)
    want = np.empty((n_p, n_s), np.int64)
    row = np.empty(n_s, np.int64)
    col = np.empty(n_p, np.int64)
    granted = np.empty(n_p, np.int64)
    requests = np.zeros((n_p, n_s), np.int64)
    short = np.empty(n_p, np.int64)
    spare = np.empty(n_s, np.int64)
    w = np.empty(n_s)
    for c in range(n_c):
        for p in range(n_p):
            _split_by_weights(demand[p, c], share[p, c], row)
            want[p] = row
        for s in range(n_s):
            col[:] = want[:, s]
            _ration(col, capacity[c, s], granted)
            alloc[:, c, s] = granted
        any_short = 0
        for p in range(n_p):
            short[p] = demand[p, c] - alloc[p, c].sum()
            any_short += short[p]
        if any_short == 0:
            continue
        for s in range(n_s):
            spare[s] = capacity[c, s] - alloc[:, c, s].sum()
        requests[:] = 0
        for p in range(n_p):
            if short[p] <= 0:
                continue
            for s in range(n_s):
                w[s] = share[p, c, s] * (1.0 if spare[s] > 0 else 0.0)
            _split_by_weights(short[p], w, row)
            requests[p] = row
        for s in range(n_s):
            col[:] = requests[:, s]
            _ration(col, spare[s], granted)
            alloc[:, c, s] += granted
    return alloc


def warm_up() -> float:
    """Start numba's runtime and load one kernel (~0.25 s once per process; compiling every
    kernel, once per machine, takes longer); return the seconds it took. The model calls it
    while it sets up, so that the one-off cost is counted as set-up rather than as day 0."""
    t0 = time.perf_counter()
    splitmix_uniforms(np.zeros(1, np.uint64), np.zeros(0, np.int64))
    return time.perf_counter() - t0


@_jit
def record_choices(idx, k, d, coupon_yuan, leader_of, last_platform, day_last_order,
                   day_last_order_p, orders, by_day):
    """Today's buyers (choosers whose option ``k`` is a platform) and their order records.

    Updates each buyer's last platform, day of last order (overall and from the platform) and
    order count, and the counts of households by day of last order that the records read
    (``by_day``, :class:`sim.metrics.LastOrderDays`: per platform, then the latest and the
    second-latest over the platforms; its days must reach ``d``). Returns the buyers, their
    platform, leader and coupon, and the number of first orders per platform (buyers who never
    ordered from it before today).
    """
    n_p = day_last_order_p.shape[1]
    if d < 0 or d >= by_day.shape[1] or by_day.shape[0] != n_p + 2:
        raise ValueError("record_choices: by_day does not cover today or the platforms")
    m = 0
    for r in range(k.shape[0]):
        if k[r] > 0:
            m += 1
    who = np.empty(m, np.int64)
    plat = np.empty(m, np.int64)
    leader = np.empty(m, np.int64)
    coupon = np.empty(m)
    first = np.zeros(n_p, np.int64)
    b = 0
    for r in range(k.shape[0]):
        if k[r] <= 0:
            continue
        ia = _ahead(idx, r, _GATHER_AHEAD)
        _prefetch(leader_of, ia)
        _prefetch(last_platform, ia)
        _prefetch(day_last_order, ia)
        _prefetch(day_last_order_p, ia)
        _prefetch(orders, ia)
        i, j = idx[r], k[r] - 1
        who[b], plat[b] = i, j
        leader[b] = leader_of[i, j]
        coupon[b] = coupon_yuan[r, j]
        old = day_last_order_p[i, j]
        if old < 0:
            first[j] += 1
        a1, a2 = _latest_two(day_last_order_p, i)
        last_platform[i] = j
        day_last_order[i] = d
        day_last_order_p[i, j] = d
        orders[i] += 1
        b += 1
        # The household moves from the count of its old day to today's (-1: counted nowhere).
        b1, b2 = _latest_two(day_last_order_p, i)
        if old >= 0:
            by_day[j, old] -= 1
        by_day[j, d] += 1
        if a1 >= 0:
            by_day[n_p, a1] -= 1
        by_day[n_p, b1] += 1
        if a2 >= 0:
            by_day[n_p + 1, a2] -= 1
        if b2 >= 0:
            by_day[n_p + 1, b2] += 1
    return who, plat, leader, coupon, first


@_jit
def _latest_two(day_last_order_p, i):
    """The latest and the second latest of household ``i``'s days of last order over the
    platforms, -1 where it has fewer (equal days count twice: the second of ``[5, 5]`` is 5)."""
    a = b = -1
    for j in range(day_last_order_p.shape[1]):
        v = day_last_order_p[i, j]
        if v > a:
            a, b = v, a
        elif v > b:
            b = v
    return a, b


@_jit
def chain_losses(life0, filled, defect, from_stock, supplier, sup_transit_hours,
                 central_to_grid_hours, grid_to_pickup_hours, dwell_hours, late_extra_hours,
                 village, late, cold, shelf_life_cold, shelf_life_ambient,
                 complaint_life_fraction, leg_loss_stage):
    """Each order unit's trip down the chain (DESIGN §4.5): spoiled, low on life, stage of loss.

    Leg hours: supplier transit and central -> grid (0 for units from grid stock, which made
    them already), grid -> pickup and the dwell at the pickup point (town or village, index
    ``[village]``; a late pickup adds ``late_extra_hours``). Each leg uses ``hours / 24 / L`` of
    the unit's life, ``L`` the category's cold or ambient shelf life as the leg ran; the unit is
    lost on the first leg where the cumulative use reaches its starting life
    (:func:`sim.coldchain.leg_of_loss`). Spoiled: supplied and (defective or lost); low on life:
    supplied, not spoiled and arriving with less than ``complaint_life_fraction`` left. The stage
    of loss is the supplier's (0) for a defect, else that of the leg (``leg_loss_stage``; for
    a unit that was not lost, that of the last leg, as NumPy indexes -1).
    """
    m, n_c = life0.shape
    n_s = sup_transit_hours.shape[0]
    # A leg's hours take a few values (leg 0: a supplier's transit or 0 from stock; leg 1:
    # central -> grid or 0; legs 2-3: by area and lateness), so each leg's use of a category's
    # life, hours / 24 / L, is tabled once per value and temperature: the same two divisions,
    # done ~40 times instead of twice per leg and unit (divisions bound the loop).
    k1, k2, k3 = n_s + 1, n_s + 3, n_s + 5  # the first row of legs 1-3 in the table
    hours = np.empty(n_s + 9)
    for s in range(n_s):
        hours[s] = sup_transit_hours[s]
    hours[n_s] = 0.0
    hours[k1], hours[k1 + 1] = central_to_grid_hours, 0.0
    for v in range(2):
        hours[k2 + v] = grid_to_pickup_hours[v]
        hours[k3 + 2 * v] = dwell_hours[v] + 0.0
        hours[k3 + 2 * v + 1] = dwell_hours[v] + late_extra_hours
    used = np.empty((n_s + 9, 2, n_c))  # [hours value, cold, category]
    for k in range(n_s + 9):
        for c in range(n_c):
            used[k, 0, c] = hours[k] / 24.0 / shelf_life_ambient[c]
            used[k, 1, c] = hours[k] / 24.0 / shelf_life_cold[c]
    spoiled = np.empty((m, n_c), np.bool_)
    low_life = np.empty((m, n_c), np.bool_)
    stage = np.empty((m, n_c), np.int64)
    for r in range(m):
        v = 1 if village[r] else 0
        stock = from_stock[r]
        u1 = used[k1 + (1 if stock else 0), 1 if cold[r, 1] else 0]
        u2 = used[k2 + v, 1 if cold[r, 2] else 0]
        u3 = used[k3 + 2 * v + (1 if late[r] else 0), 1 if cold[r, 3] else 0]
        u0 = used[:, 1 if cold[r, 0] else 0]
        for c in range(n_c):
            start = life0[r, c]
            cum0 = u0[n_s if stock else max(supplier[r, c], 0), c]
            cum1 = cum0 + u1[c]
            cum2 = cum1 + u2[c]
            cum3 = cum2 + u3[c]
            leg = -1  # the first leg where the use reaches the starting life
            if cum3 >= start:
                leg = 3
            if cum2 >= start:
                leg = 2
            if cum1 >= start:
                leg = 1
            if cum0 >= start:
                leg = 0
            f, bad = filled[r, c], defect[r, c]
            lost = f & (bad | (leg >= 0))
            spoiled[r, c] = lost
            low_life[r, c] = f & (not lost) & (start - cum3 < complaint_life_fraction)
            stage[r, c] = 0 if bad else leg_loss_stage[leg]
    return spoiled, low_life, stage


@_jit
def deliveries(prices, paid, value, filled, spoiled, low_life, consumer, platform, leader,
               spend_yuan, trust, month_complaints, trust_learning_rate, trust_loss_spoiled):
    """What today's deliveries do to the households and leaders, in place (DESIGN §4.5).

    Each order's refund is the paid share (``paid / value``, 0 for an order of no value) of its
    spoiled units' prices, ``(price * spoiled) * share`` per unit and the row summed as NumPy
    sums it; it comes off the household's spend. An order with a spoiled unit, or else with a
    unit low on life, is a complaint: it counts on the leader's month and cuts the household's
    trust in the platform by ``trust_loss_spoiled``; an order picked up (a unit arrived) without
    complaint pulls trust up, ``tr + rate * (1 - tr)``. Households appear once a day in the
    book. Returns the refunds per unit and per order, complaint, quality complaint (low life,
    nothing spoiled) and picked up, per order.
    """
    m, n_c = prices.shape
    refund_units = np.empty((m, n_c))
    refund = np.empty(m)
    complaint = np.empty(m, np.bool_)
    quality = np.empty(m, np.bool_)
    picked = np.empty(m, np.bool_)
    keep = 1.0 - trust_loss_spoiled
    for r in range(m):
        ia = _ahead(consumer, r, _GATHER_AHEAD)
        _prefetch(spend_yuan, ia)
        _prefetch(trust, ia)
        share = paid[r] / value[r] if value[r] > 0 else 0.0
        any_spoiled = False
        any_low = False
        any_filled = False
        for c in range(n_c):
            refund_units[r, c] = prices[r, c] * (1.0 if spoiled[r, c] else 0.0) * share
            any_spoiled = any_spoiled or spoiled[r, c]
            any_low = any_low or low_life[r, c]
            any_filled = any_filled or filled[r, c]
        refund[r] = _pairwise_sum(refund_units[r], 0, n_c)
        i, j = consumer[r], platform[r]
        spend_yuan[i] = spend_yuan[i] - refund[r]
        q = (not any_spoiled) and any_low
        quality[r] = q
        complaint[r] = any_spoiled or q
        picked[r] = any_filled
        tr = trust[i, j]
        if complaint[r]:
            month_complaints[leader[r]] += 1
            trust[i, j] = tr * keep
        elif any_filled:
            trust[i, j] = tr + trust_learning_rate * (1.0 - tr)
    return refund_units, refund, complaint, quality, picked


@_jit
def record_units(platform, village, filled, spoiled, low_life, stage, refund_units, cost,
                 shipped, spoiled_count, low_life_count, refunds, losses, loss_yuan, spoil_cost):
    """Today's deliveries counted into the supply records, in place: units shipped, spoiled and
    low on life per platform x category; refunds and spoilage cost (yuan) per platform x
    category; losses (units and cost) per platform x category x area (town, village) x stage.
    Yuan are added unit by unit in row order, as ``np.add.at`` adds them."""
    m, n_c = filled.shape
    for r in range(m):
        j = platform[r]
        a = 1 if village[r] else 0
        for c in range(n_c):
            if filled[r, c]:
                shipped[j, c] += 1
            if spoiled[r, c]:
                spoiled_count[j, c] += 1
                losses[j, c, a, stage[r, c]] += 1
                loss_yuan[j, c, a, stage[r, c]] += cost[r, c]
            if low_life[r, c]:
                low_life_count[j, c] += 1
            refunds[j, c] += refund_units[r, c]
            spoil_cost[j, c] += cost[r, c]


@_jit
def presale_fill(sel, u_supplier, u_life, u_relabel, u_defect, alloc, life_min, life_max,
                 relabel_prob, relabel_age, defect_prob, unit_cost_ref, cost_mult, supplier,
                 life0, defect, cost_yuan, filled):
    """Pre-sale: a platform's orders ``sel`` take the units its suppliers deliver, in place.

    For each category the orders queue by their own uniform (a stable sort, as NumPy's); the
    ``alloc[c, s]`` units of supplier ``s`` go to the next places in the queue, suppliers in
    order; the orders past the last unit stay unfilled. A filled unit's life at dispatch is
    uniform in the category's range, less the relabel age if its supplier relabels old stock
    (``GroupBuyingMarket._initial_life``); it is defective with the supplier's probability and
    costs the category's reference cost times the supplier's multiplier.

    The queue is not sorted: an order's supplier depends only on which suppliers' last places
    it comes after, so only the orders at those few places are found (a bucket count by
    uniform, then a count within the bucket holding the place), and each order is compared
    with them. The order at place ``e`` is the one with ``e`` orders before it by (uniform,
    position in ``sel``), the stable sort's order.
    """
    m = sel.shape[0]
    n_c, n_s = alloc.shape
    # Supplier s serves the places below ends[c, s] not served before: the running maximum of
    # the cumulative units, so that an order's supplier is the number of ends at or below its
    # place (equal to the first s with place < cumulative units, and branch-free).
    ends = np.empty((n_c, n_s), np.int64)
    for c in range(n_c):
        total = 0
        top = 0
        for s in range(n_s):
            total += alloc[c, s]
            top = max(top, total)
            ends[c, s] = top
    # Buckets of the uniforms (x in bucket floor(x * n_b), monotone in x, ~8 orders each):
    # counts, and each bucket's orders as a list (head, next), for each category.
    n_b = m // 8 + 1
    count = np.zeros((n_c, n_b + 1), np.int64)
    head = np.full((n_c, n_b), -1, np.int64)
    nxt = np.empty((m, n_c), np.int64)
    for p in range(m):
        r = sel[p]
        for c in range(n_c):
            b = min(np.int64(u_supplier[r, c] * n_b), n_b - 1)
            count[c, b + 1] += 1
            nxt[p, c] = head[c, b]
            head[c, b] = p
    # The order at each end's place, as its (uniform, position): an order is at or past the end
    # when it is not before it. An end at 0 has every order past it, one at m or more none.
    at_u = np.empty((n_c, n_s))
    at_p = np.empty((n_c, n_s), np.int64)
    for c in range(n_c):
        for b in range(n_b):
            count[c, b + 1] += count[c, b]  # count[c, b]: the orders in buckets below b
        b = 0
        for s in range(n_s):
            e = ends[c, s]
            at_p[c, s] = 0
            if e <= 0:
                at_u[c, s] = -np.inf
                continue
            if e >= m:
                at_u[c, s] = np.inf
                continue
            while count[c, b + 1] <= e:  # the bucket holding place e (ends never decrease)
                b += 1
            k = e - count[c, b]  # its place within the bucket
            q = head[c, b]
            while q >= 0:
                uq = u_supplier[sel[q], c]
                before = 0
                t = head[c, b]
                while t >= 0:
                    ut = u_supplier[sel[t], c]
                    before += (ut < uq) | ((ut == uq) & (t < q))
                    t = nxt[t, c]
                if before == k:
                    at_u[c, s] = uq
                    at_p[c, s] = q
                    break
                q = nxt[q, c]
    for p in range(m):  # the orders in row order (the book's arrays are read front to back)
        r = sel[p]
        for c in range(n_c):
            x = u_supplier[r, c]
            s = 0
            for t in range(n_s):
                a = at_u[c, t]
                s += x >= a
                if x == a and p < at_p[c, t]:  # rare: the same uniform, earlier in sel
                    s -= 1
            if s >= n_s:
                continue  # past the last unit: unfilled
            life = life_min[c] + (life_max[c] - life_min[c]) * u_life[r, c]
            if u_relabel[r, c] < relabel_prob[s]:
                life = life - relabel_age[s]
            supplier[r, c] = s
            life0[r, c] = life
            defect[r, c] = u_defect[r, c] < defect_prob[s]
            cost_yuan[r, c] = unit_cost_ref[c] * cost_mult[s]
            filled[r, c] = True


@_jit
def household_counts(adopted, in_village, aware, leader_of, active):
    """The day's household counts for the records, in one call: adopters (all, town, village),
    households in town and in villages, households aware of any platform and of each, with a
    leader of each platform, and with a leader of an active platform."""
    n, n_p = aware.shape
    # Counts as sums of 0/1 bytes, no branches on the households' state (the flags' bytes
    # are 0 or 1: NumPy's bool). First one flat pass over the (n, P) entries, which LLVM
    # vectorises: bit 0 aware, bit 1 has a leader. Then per household the platforms' flags;
    # three platforms (the default market) get a loop of their own, whose fixed trip count
    # lets LLVM keep the six counts in registers and vectorise (at 100k on the state of day
    # 200: 288 -> 120 us; other counts of platforms, platform by platform: 236 us).
    ad, vil = adopted.view(np.uint8), in_village.view(np.uint8)
    aw = aware.view(np.uint8).reshape(n * n_p)
    lf = leader_of.reshape(n * n_p)
    act = active.view(np.uint8)
    one = np.uint8(1)
    adopters = adopters_village = villagers = 0
    for i in range(n):
        adopters += ad[i]
        villagers += vil[i]
        adopters_village += ad[i] & vil[i]
    flags = np.empty(n * n_p, np.uint8)
    for e in range(n * n_p):
        flags[e] = aw[e] | (np.uint8(lf[e] >= 0) << one)
    aware_p = np.zeros(n_p, np.int64)
    leader_p = np.zeros(n_p, np.int64)
    aware_any = covered = 0
    if n_p == 3:
        a0 = a1 = a2 = h0 = h1 = h2 = 0
        k0, k1, k2 = one | (act[0] << one), one | (act[1] << one), one | (act[2] << one)
        for i in range(n):
            f0, f1, f2 = flags[3 * i], flags[3 * i + 1], flags[3 * i + 2]
            a0 += f0 & one
            a1 += f1 & one
            a2 += f2 & one
            h0 += f0 >> one
            h1 += f1 >> one
            h2 += f2 >> one
            seen = (f0 & k0) | (f1 & k1) | (f2 & k2)  # bit 1: a leader of an active platform
            aware_any += seen & one
            covered += seen >> one
        aware_p[0], aware_p[1], aware_p[2] = a0, a1, a2
        leader_p[0], leader_p[1], leader_p[2] = h0, h1, h2
    else:
        seen_all = np.zeros(n, np.uint8)
        for j in range(n_p):
            keep = one | (act[j] << one)
            a = h = 0
            for i in range(n):
                f = flags[i * n_p + j]
                a += f & one
                h += f >> one
                seen_all[i] |= f & keep
            aware_p[j] = a
            leader_p[j] = h
        for i in range(n):
            aware_any += seen_all[i] & one
            covered += seen_all[i] >> one
    return (adopters, adopters - adopters_village, n - villagers, adopters_village, villagers,
            aware_any, aware_p, leader_p, covered)


# numpy.random.SeedSequence's hash constants (O'Neill's seed_seq_fe, numpy/random/
# bit_generator.pyx): its mixing is re-done here, word for word, for the counter-based streams'
# keys (sim.streams.RandomStreams.uniform_at) and the full-length streams' PCG64 states
# (RandomStreams.uniform, uniform_of), ~20x faster than building a SeedSequence and a PCG64.
_INIT_A, _MULT_A = np.uint64(0x43B0D7E5), np.uint64(0x931E8875)
_INIT_B, _MULT_B = np.uint64(0x8B51F9DD), np.uint64(0x58F38DED)
_MIX_MULT_L, _MIX_MULT_R = np.uint64(0xCA01F9DD), np.uint64(0x4973F715)
_XSHIFT = np.uint64(16)


@_jit
def _hashmix(value, hash_const):
    value = (value ^ hash_const) & _M32
    hash_const = (hash_const * _MULT_A) & _M32
    value = (value * hash_const) & _M32
    value ^= value >> _XSHIFT
    return value, hash_const


@_jit
def _mix(x, y):
    result = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _M32
    result ^= result >> _XSHIFT
    return result


@_jit
def seed_sequence_states(entropy, spawn_words, n_words):
    """``SeedSequence(entropy, spawn_key).generate_state(n_words, np.uint64)`` for each row,
    shape (m, n_words).

    ``entropy``: the run entropy as 32-bit words (little end first), ``spawn_words`` (m, w):
    each row's spawn key, its elements' 32-bit words concatenated (NumPy coerces each element
    on its own). The pool (4 words) mixes the entropy, padded with zeros to the pool size when
    there is a spawn key, then the spawn words; the state's 32-bit words come from the pool in
    turn, two to a uint64 (little end first). ``tests/test_kernels.py`` checks it against NumPy.
    """
    m = spawn_words.shape[0]
    out = np.empty((m, n_words), np.uint64)
    n_run = max(entropy.shape[0], 4)
    n_all = n_run + spawn_words.shape[1]
    words = np.zeros(n_all, np.uint64)
    pool = np.zeros(4, np.uint64)
    state = np.zeros(2 * n_words, np.uint64)
    for r in range(m):
        for k in range(n_run):
            words[k] = entropy[k] if k < entropy.shape[0] else 0
        for k in range(spawn_words.shape[1]):
            words[n_run + k] = spawn_words[r, k]
        hc = _INIT_A
        for i in range(4):
            pool[i], hc = _hashmix(words[i], hc)  # n_all >= 4: the run words are padded
        for i_src in range(4):
            for i_dst in range(4):
                if i_src != i_dst:
                    h, hc = _hashmix(pool[i_src], hc)
                    pool[i_dst] = _mix(pool[i_dst], h)
        for i_src in range(4, n_all):
            for i_dst in range(4):
                h, hc = _hashmix(words[i_src], hc)
                pool[i_dst] = _mix(pool[i_dst], h)
        hb = _INIT_B
        for i in range(2 * n_words):
            v = (pool[i % 4] ^ hb) & _M32
            hb = (hb * _MULT_B) & _M32
            v = (v * hb) & _M32
            v ^= v >> _XSHIFT
            state[i] = v
        for k in range(n_words):
            out[r, k] = state[2 * k] | (state[2 * k + 1] << np.uint64(32))
    return out


@_jit
def pcg64_seeded(entropy, spawn_words):
    """The state of ``PCG64(SeedSequence(entropy, spawn_key))`` as in ``PCG64.state``: four
    uint64 words (state high, state low, increment high, increment low), for one spawn key
    (``spawn_words`` (1, w), as in :func:`seed_sequence_states`).

    NumPy seeds PCG64 from ``generate_state(4, uint64)``: the initial state is words 0 (high)
    and 1 (low), the sequence words 2 and 3; then O'Neill's ``pcg_setseq_128_srandom_r``: the
    increment is ``2 * sequence + 1``, and the state is zero stepped once, plus the initial
    state, stepped again. ``tests/test_streams.py`` checks it against NumPy."""
    seed = seed_sequence_states(entropy, spawn_words, 4)[0]
    one = np.uint64(1)
    inc_hi = (seed[2] << one) | (seed[3] >> np.uint64(63))
    inc_lo = (seed[3] << one) | one
    s_hi, s_lo = inc_hi, inc_lo  # zero stepped once: 0 * MULT + inc
    lo = s_lo + seed[1]
    s_hi, s_lo = s_hi + seed[0] + np.uint64(lo < s_lo), lo
    s_hi, s_lo = _muladd128(_PCG_MULT_HI, _PCG_MULT_LO, s_hi, s_lo, inc_hi, inc_lo)
    out = np.empty(4, np.uint64)
    out[0], out[1], out[2], out[3] = s_hi, s_lo, inc_hi, inc_lo
    return out


@_jit
def pcg64_uniforms(state, n):
    """``Generator(PCG64 in state).random(n)``, equal bit for bit (:func:`_pcg64_sequence`);
    ``state`` as in :func:`pcg64_uniforms_at`."""
    return _pcg64_sequence(state[0], state[1], state[2], state[3], n)
