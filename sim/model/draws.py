"""All of a run's randomness, in vector form.

Submodels never touch a Generator; they receive arrays from a `Draws`, so a reference
implementation can be handed the very same numbers (benchmarks/reference_model.py).

Two kinds of draws:

* **sequential** (`uniform`, `normal`): straight from ``model.rng``; used once, at set-up.
* **keyed** (`keyed_uniform`, `keyed_normal`): a counter-based generator. The draw for
  firm ``id`` in ``year`` for a given purpose (``stream``) is a fixed function of a 64-bit
  key taken from ``model.rng`` at set-up, the id, the year and the stream:

      u = SplitMix64(key_{year,stream} + id · γ) / 2⁶⁴,   γ = 0x9E3779B97F4A7C15

  (the output function of SplitMix64, Steele, Lea & Flood 2014). A firm's draw therefore
  does not depend on how many other firms exist or exited. Two runs with the same seed
  but different policies give each surviving firm the same adoption, review and choice
  numbers: common random numbers that survive the runs' divergence, so differences
  between scenarios or sweep samples measure the policy, not the noise.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB

#: Purposes of keyed draws. Never renumber: the numbers are part of every stored result.
STREAMS = {"adopt": 1, "review": 2, "choice": 3, "order": 4, "entry_location": 5, "entry_productivity": 6,
           "entry_capacity": 7, "entry_hq": 8, "entry_order": 9}


def _mix_scalar(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


#: Keys mixed at a time: the mix is a dozen passes over its arrays, and blocks of this size keep them
#: in the CPU's cache (over 100,000 firms at once it takes about twice as long).
BLOCK = 1 << 15


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's output function on uint64 arrays (multiplications wrap modulo 2⁶⁴), in place in `z`."""
    shifted = np.empty_like(z)
    z ^= np.right_shift(z, np.uint64(30), out=shifted)
    z *= np.uint64(_M1)
    z ^= np.right_shift(z, np.uint64(27), out=shifted)
    z *= np.uint64(_M2)
    z ^= np.right_shift(z, np.uint64(31), out=shifted)
    return z


class Draws:
    """The random numbers of one run, from the model's `numpy.random.Generator`."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.key = int(rng.integers(0, 2**63, dtype=np.int64))

    # sequential --------------------------------------------------------------------
    def uniform(self, n: int) -> np.ndarray:
        return self.rng.random(n)

    def normal(self, n: int) -> np.ndarray:
        return self.rng.standard_normal(n)

    # keyed -------------------------------------------------------------------------
    def keyed_uniform(self, keys: np.ndarray, year: int, stream: str) -> np.ndarray:
        """Uniforms on (0, 1), one per key (firm id or entrant number), fixed by (key, year, stream)."""
        return self._keyed(keys, year, stream)

    def keyed_normal(self, keys: np.ndarray, year: int, stream: str) -> np.ndarray:
        """Standard normals by inversion of `keyed_uniform`'s numbers."""
        return ndtri(self._keyed(keys, year, stream))

    def _keyed(self, keys: np.ndarray, year: int, stream: str) -> np.ndarray:
        base = np.uint64(_mix_scalar((self.key + _mix_scalar((year << 8) + STREAMS[stream])) & _MASK))
        keys = np.asarray(keys)
        u = np.empty(keys.shape)
        for start in range(0, keys.size, BLOCK):        # blocks of firms, not firms (see BLOCK)
            z = keys[start:start + BLOCK].astype(np.uint64)
            z *= np.uint64(_GAMMA)
            z += base
            u[start:start + BLOCK] = _mix(z) >> np.uint64(11)   # 53 bits: exact in float64
        u += 0.5
        u *= 2.0 ** -53
        return u


# transforms of uniform and normal draws ------------------------------------------
def categorical(prob, u, rows=None):
    """Inverse-CDF draw of categories from uniforms `u` (vectorised, reproducible): the number of cumulative
    weights ≤ u·total, at most K − 1. `prob` is one distribution (K,) for every draw or, with `rows`, a table
    of distributions (one per row, K columns) of which draw i uses row rows[i]."""
    cdf = np.cumsum(prob, axis=-1)
    # categories (countries: few) × draws, so that the count runs along the long axis
    if rows is None:
        below = cdf[:, None] <= u * cdf[-1]
    else:
        below = np.ascontiguousarray(cdf.T).take(rows, axis=1) <= u * cdf[rows, -1]
    return np.minimum(below.sum(axis=0), cdf.shape[-1] - 1)


def lognormal_mean_one(sigma, z):
    """exp(σ·z − σ²/2): lognormal with mean 1 from standard normal draws z."""
    return np.exp(sigma * z - 0.5 * sigma ** 2)


def lognormal_mean_one_z(sigma, x):
    """The inverse of `lognormal_mean_one`: z = (ln x + σ²/2)/σ."""
    return (np.log(x) + 0.5 * sigma ** 2) / sigma
