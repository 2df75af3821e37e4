"""The random streams' compiled generators: PCG64 and SplitMix64, and NumPy's seeding re-done.

The numbers of :class:`sim.streams.RandomStreams`: its full-length streams are NumPy's PCG64
sequences (:func:`pcg64_uniforms`, :func:`pcg64_uniforms_at`), seeded as NumPy seeds them
(:func:`seed_sequence_states`, :func:`pcg64_seeded`); its counter-based streams hash
(key, household) with SplitMix64 (:func:`splitmix_uniforms`). Tested bit for bit against
NumPy's own generator (tests/test_streams.py).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba.extending import intrinsic

from sim.jit import jit

__all__ = [
    "pcg64_seeded",
    "pcg64_uniforms",
    "pcg64_uniforms_at",
    "seed_sequence_states",
    "splitmix_uniforms",
]

# SplitMix64 constants (Steele, Lea and Flood 2014, "Fast splittable pseudorandom number
# generators", OOPSLA; the finaliser is Stafford's "Mix13"): the golden-ratio increment and the
# two multipliers of the 64-bit mixing function (sim.streams.RandomStreams.uniform_at).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_M32 = np.uint64(0xFFFFFFFF)  # the low 32 bits of a word


@jit
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


@jit
def _pcg64_double(s_hi, s_lo):
    """PCG64's output (XSL-RR) of a state, as NumPy's ``random()`` makes it a double: the top 53
    bits over 2**53."""
    v = s_hi ^ s_lo
    rot = s_hi >> np.uint64(58)
    x = (v >> rot) | (v << ((np.uint64(64) - rot) & np.uint64(63)))
    return np.float64(np.int64(x >> np.uint64(11))) * (1.0 / 9007199254740992.0)


@jit
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


@jit
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


@jit
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


@jit
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


# numpy.random.SeedSequence's hash constants (O'Neill's seed_seq_fe, numpy/random/
# bit_generator.pyx): its mixing is re-done here, word for word, for the counter-based streams'
# keys (sim.streams.RandomStreams.uniform_at) and the full-length streams' PCG64 states
# (RandomStreams.uniform, uniform_of), ~20x faster than building a SeedSequence and a PCG64.
_INIT_A, _MULT_A = np.uint64(0x43B0D7E5), np.uint64(0x931E8875)
_INIT_B, _MULT_B = np.uint64(0x8B51F9DD), np.uint64(0x58F38DED)
_MIX_MULT_L, _MIX_MULT_R = np.uint64(0xCA01F9DD), np.uint64(0x4973F715)
_XSHIFT = np.uint64(16)


@jit
def _hashmix(value, hash_const):
    value = (value ^ hash_const) & _M32
    hash_const = (hash_const * _MULT_A) & _M32
    value = (value * hash_const) & _M32
    value ^= value >> _XSHIFT
    return value, hash_const


@jit
def _mix(x, y):
    result = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _M32
    result ^= result >> _XSHIFT
    return result


@jit
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


@jit
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


@jit
def pcg64_uniforms(state, n):
    """``Generator(PCG64 in state).random(n)``, equal bit for bit (:func:`_pcg64_sequence`);
    ``state`` as in :func:`pcg64_uniforms_at`."""
    return _pcg64_sequence(state[0], state[1], state[2], state[3], n)
