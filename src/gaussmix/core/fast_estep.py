"""NumPy fast paths of the E-step: one feature block per row block feeds the densities and the statistics.

The generic functions in ``density`` and ``estep`` loop over components; here every component is served by one
GEMM per block of rows. With the rows centred on the mean of the means ``g``, each covariance type has a feature
map φ(x − g) that is linear in the parameters (Φ below, stored transposed as (n_features_phi, rows)):

- full: the products (x − g)ᵢ(x − g)ⱼ of every pair i ≤ j (in ``pair_features``' circulant order), then x − g,
  then 1;
- diag: (x − g)², x − g, 1;  spherical: ‖x − g‖², x − g, 1;  tied: the same as spherical on whitened rows.

The log-densities are then ``coef @ Φ`` (K, rows) and the statistics about ``g`` are ``resp.T @ Φ.T`` (K, F):
one GEMM each (full with few components: a few, on slices of Φ small enough for OpenBLAS's kernels that skip
packing, ``feature_slice``), and the same Φ for both when X is float64 (or float32 diag/spherical data whose
sub-block sums may be float32, see F32_STATS_MAX_REACH). Statistics are shifted from ``g`` to each component's
centre c_k afterwards (Σr(x−c)(x−c)ᵀ = S_g − f mᵀ − m fᵀ + n mmᵀ, m = c − g), which keeps them exact far from the
origin. The quadratic expansion loses about eps·‖(c_k − g)P_k‖² of absolute accuracy in a log-density, the same
as the generic diag/spherical path; for float32 full/tied data the "centred" form computes ‖(x − c_k)P_k‖ from
whitened differences instead (one GEMM for all components), as accurate as the generic path.

At high dimension Φ (D²/2 features a row) is used only K times per value it holds: the GEMMs turn memory-bound
and the fast path fell 5× behind scikit-learn at D = 256. Full covariances at high dimension therefore take the
"whitened" form, component by component as scikit-learn: (x − c_k) P_k for the densities, by BLAS's TRMM (half a
GEMM's flops; ``lapack.multiply_by_upper``, without the GIL) for the upper triangular P_k every model has, and a
rank-n update (SYRK, half a GEMM's flops) of √r ⊙ (x − c_k) for the scatter through NumPy's matmul, which releases
the GIL too, so blocks run on every core (``default_form`` says where, from measurements).
Working memory is a few sub-blocks of ``rows × max(F, K·D)`` values, whatever the chunk's length.

Diagonal and spherical statistics (``_add_separable_sub_blocks``) shift float64 log-probabilities by one constant,
the largest any row can reach, inside the densities GEMM rather than by each row's peak (found in a pass of its
own), and rescore only the rows that constant does not suit; the statistics GEMM reads the same Φ and terms.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from . import lapack
from .density import centred_log_gaussian_prob, log_weights
from .params import GaussianParams, log_det_cholesky
from .stats import SufficientStats
from .worst_rows import any_below_diagonal, worst_rows

LOG_2PI = math.log(2.0 * math.pi)

#: Bytes of the widest per-sub-block buffer: about a core's L2 cache, so the passes over it stay in cache.
SUB_BLOCK_BYTES = 4 * 1024 * 1024
#: Fewest rows per sub-block: below this the GEMMs are too thin to run near the machine's peak (wide D)...
MIN_SUB_BLOCK_ROWS = 256
#: ...unless the widest buffer would pass this (huge K·D): working memory stays bounded whatever the shape.
MAX_SUB_BLOCK_BYTES = 16 * 1024 * 1024
#: Fewest rows per sub-block of the full expansion, whose Φ (D²/2 features) passes SUB_BLOCK_BYTES from D ≈ 46:
#: each sub-block pays ~30 NumPy calls and two GEMMs, too many for 256 rows (50,000 × 64, K = 16, both halves on
#: two threads: 256 rows 169-175 ms, 474 rows 154-168, min of 9 in four alternations).
FULL_EXPANDED_MIN_ROWS = 480
#: OpenBLAS multiplies matrices of M·N·K ≤ 10⁶ without packing them (its small-matrix kernels on SkylakeX), and
#: packing is most of the work when one side has only K rows: the full kind's GEMMs coef @ Φ (K, F) @ (F, rows)
#: and resp @ Φᵀ run on slices of Φ's features of this size...
SMALL_GEMM_SIZE = 1_000_000
#: ...when a slice holds this many features at least. Each slice of the densities adds a (K, rows) partial sum,
#: and slices of few features are many calls: D = 16 with K = 256 took 1.5× as long in slices of 16 features.
MIN_SLICE_FEATURES = 128
#: The same for diag/spherical covariances, whose passes over Φ and the (K, rows) terms are all short: one
#: thread, ns a row at D = 32, K = 64 (D = 16) by budget: 4 MiB 738 (366), 2 MiB 676 (361), 1 MiB 660 (333),
#: 512 KiB 666 (333), 256 KiB 883 (512; per-call costs); float32 D = 40, K = 256: 1,630 / 1,418 / 1,379.
SEPARABLE_SUB_BLOCK_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True, eq=False)
class DensityPlan:
    """Everything the fast E-step needs from the parameters, computed once per (params, dtype): a per-pass value.

    For K = 2048 it costs as much as a few hundred rows, so an executor prepares it once per pass and hands it to
    every block (``estep.estep_plan``). It holds copies of the params' arrays, except the whitened form's P_k
    stack (K·D² values: a copy per pass cost 5% of a D = 1,024 iteration), which parameters never change.

    ``form`` is "expanded" (log-densities = coef @ Φ), "centred" (whitened differences, full/tied only) or
    "whitened" (full only: one triangular multiply per component);
    ``coef`` (K, F) or ``whiten`` ((K·D, D + 1) full centred, (D, D) tied, (K, D, D) = P_kᵀ whitened) and
    ``offsets`` ((K, D): whitened centres for tied, centres − g for whitened) are in ``dtype``, the one the plan
    computes in (X's, or float64 for float32 data expanded: ``compute_dtype``);
    ``log_const`` (K,) is log w_k + log|P_k| − D/2·log 2π, the largest value a log-density can take.
    ``stats_dtype`` is that of the per-sub-block statistics GEMM (summed in float64 across sub-blocks).
    """

    kind: str
    dtype: np.dtype
    form: str
    center: np.ndarray  # (K, D) float64: the means the E-step uses, the statistics' centre
    g: np.ndarray  # (D,) float64, exactly representable in X's dtype
    coef: np.ndarray | None
    whiten: np.ndarray | None
    offsets: np.ndarray | None
    log_const: np.ndarray
    stats_dtype: np.dtype
    dead: np.ndarray  # zero-weight components, whose responsibilities are exactly 0
    data_dtype: np.dtype | None = None  # the rows' dtype the plan was made for (``dtype`` unless widened)
    upper: bool = False  # whitened form: every P_k is upper triangular (the densities by TRMM)

    def serves(self, X: np.ndarray) -> bool:
        """Whether the plan was made for rows of X's dtype."""
        return (self.dtype if self.data_dtype is None else self.data_dtype) == X.dtype

    @property
    def n_components(self) -> int:
        return int(self.center.shape[0])

    @property
    def max_log_const(self) -> float:
        """The largest value any log-probability can take."""
        return float(np.max(self.log_const))

    @property
    def n_features(self) -> int:
        return int(self.center.shape[1])


#: Full covariances take the whitened form from WHITENED_MIN_FEATURES features when there are at most
#: 1/WHITENED_FEATURES_PER_COMPONENT as many components as features, and from WHITENED_ALWAYS_FEATURES whatever K.
#: Single-thread ms per 12,500 rows, expanded / whitened (float64, load ~3, pair products by one multiply and
#: small-kernel GEMMs): D=32 K=4 28 / 36; D=48 K=4 45 / 34; D=64 K=4 86 / 61; D=64 K=6 73 / 70; D=64 K=8 96 / 110;
#: D=64 K=16 111 / 210; D=96 K=8 208 / 173; D=96 K=10 134 / 149; D=128 K=12 388 / 371; D=128 K=16 412 / 432;
#: D=160 K=16 731 / 693; D=192 K=16 657 / 625; D=128 K=64 1,240 / 2,020. The expansion's cost grows with
#: K·D²/2 plus D²/2 features a row to write, the whitened form's with K·D² at GEMM/SYRK speed: they cross near
#: D = 10·K. (Before the one-multiply pair products: D=32 K=4 31 / 22, D=256 K=8 4,000 / 640 for 10,000 rows.)
WHITENED_MIN_FEATURES = 32
#: Whitened sub-blocks have at least this many rows per feature (up to MAX_SUB_BLOCK_BYTES a buffer).
WHITENED_ROWS_PER_FEATURE = 2
WHITENED_FEATURES_PER_COMPONENT = 10
WHITENED_ALWAYS_FEATURES = 192


def default_form(kind: str, dtype: np.dtype, n_features: int = 0, n_components: int = 0,
                 widen: bool = True) -> str:
    """The form the measurements favour for the shape: whitened for full covariances at high dimension, else
    expanded. Float32 full/tied data expand in float64 (``compute_dtype``) when ``widen``, else take the centred
    form (tensors: a GPU's float64 is slow), because a float32 expansion's cancellation would cost digits."""
    d, k = n_features, n_components
    if kind == "full" and d >= WHITENED_MIN_FEATURES and (d >= WHITENED_FEATURES_PER_COMPONENT * k
                                                          or d >= WHITENED_ALWAYS_FEATURES):
        return "whitened"
    narrow = kind in ("full", "tied") and np.dtype(dtype) == np.float32 and not widen
    return "centred" if narrow else "expanded"


def compute_dtype(kind: str, dtype: np.dtype, form: str) -> np.dtype:
    """The dtype a plan computes in: X's, except float64 for the expanded form of float32 full/tied data.

    The expansion loses eps·‖P(c − g)‖² of a log-density, too much in float32. In float64 the same Φ then also
    feeds the statistics GEMM: float32 full, 200,000 × 16, K = 16 measured 0.21 s per pass centred in float32
    (plus a float64 Φ for the statistics) against 0.14 s widened.
    """
    dtype = np.dtype(dtype)
    widened = form == "expanded" and kind in ("full", "tied") and dtype == np.float32
    return np.dtype(np.float64) if widened else dtype


def density_plan(params: GaussianParams, dtype: np.dtype, form: str | None = None) -> DensityPlan:
    """Precompute the E-step coefficients of ``params`` for data of ``dtype`` (float32 or float64)."""
    dtype = np.dtype(dtype)
    kind = params.covariance_type
    form = form or default_form(kind, dtype, params.n_features, params.n_components)
    if form == "centred" and kind not in ("full", "tied") or form == "whitened" and kind != "full":
        raise ValueError(f"The {form} form is not for {kind!r} covariances.")
    data_dtype, dtype = dtype, compute_dtype(kind, dtype, form)
    means = np.array(params.means, dtype=np.float64)  # a copy: the plan stays a value if params' arrays change
    prec_chol = np.asarray(params.precisions_cholesky, dtype=np.float64)
    k, d = means.shape
    g = (means.sum(axis=0) / k).astype(dtype).astype(np.float64)  # the mean (np.mean's own steps, 5 µs less)
    m = means - g
    with np.errstate(divide="ignore"):  # a zero weight is a component that explains nothing: log 0 = -inf
        log_w = np.log(np.asarray(params.weights, dtype=np.float64))
    log_const = log_w + log_det_cholesky(prec_chol, kind, d) - 0.5 * d * LOG_2PI
    coef = whiten = offsets = None
    if kind == "tied":
        whiten = prec_chol.T.astype(dtype)  # z = Pᵀ(x − g): whitened rows
        offsets = (m @ prec_chol).astype(dtype)  # b_k = Pᵀ(c_k − g): whitened centres
    if form == "centred" and kind == "full":
        w = np.empty((k * d, d + 1))
        w[:, :d] = np.transpose(prec_chol, (0, 2, 1)).reshape(k * d, d)
        w[:, d] = -np.einsum("kd,kde->ke", m, prec_chol).reshape(k * d)
        whiten = w.astype(dtype)  # y_k = P_kᵀ(x − g) − P_kᵀ(c_k − g) for all k in one GEMM
    if form == "whitened":  # whiten[k].T is P_k, a view in either memory order (TRMM takes both uncopied)
        whiten = np.transpose(np.asarray(params.precisions_cholesky, dtype=dtype), (0, 2, 1))
        offsets = means.astype(dtype)  # x − c_k in X's dtype, as the reference computes it
    if form == "expanded":  # a -inf inside a GEMM can meet a zero; the cap below applies it instead
        coef = _expanded_coef(kind, m, prec_chol, np.where(np.isfinite(log_const), log_const, 0.0)).astype(dtype)
    upper = form == "whitened" and not any_below_diagonal(np.asarray(params.precisions_cholesky))
    return DensityPlan(kind, dtype, form, means, g, coef, whiten, offsets, log_const.astype(dtype),
                       _stats_dtype(kind, dtype, m, prec_chol), np.flatnonzero(~np.isfinite(log_const)),
                       data_dtype, upper)


#: Float32 data with diag/spherical covariances sums each sub-block's statistics in a float32 GEMM (then in
#: float64) when every centre is within sqrt(this) standard deviations of g along every axis ("reach"):
#: shifting the sums from g to the centres scales their rounding by 1 + reach. Measured on UBM-like data:
#: relative variance error ≈ 1e-8·reach (1.5e-6 at reach 150, 1.2e-4 at 12,000), so at most ~3e-5 here.
F32_STATS_MAX_REACH = 1000.0


def _stats_dtype(kind: str, dtype: np.dtype, m: np.ndarray, prec_chol: np.ndarray) -> np.dtype:
    if dtype != np.float32 or kind not in ("diag", "spherical") or m.size == 0:
        return np.dtype(np.float64)
    d = m.shape[1]
    reach = np.max(m * m * prec_chol**2) if kind == "diag" else np.max(np.sum(m * m, 1) * prec_chol**2) / d
    return np.dtype(np.float32 if reach <= F32_STATS_MAX_REACH else np.float64)


def _expanded_coef(kind: str, m: np.ndarray, prec_chol: np.ndarray, log_const: np.ndarray) -> np.ndarray:
    """Rows of coef such that coef @ Φ(x − g) = log_const − ½‖Pᵀ(x − g − m)‖², in the feature order of Φ."""
    k, d = m.shape
    if kind == "full":
        prec = prec_chol @ np.transpose(prec_chol, (0, 2, 1))
        first, second = pair_features(d)
        quad = -0.5 * prec[:, first, second] * np.where(first == second, 1.0, 2.0)
        lin = np.einsum("kde,ke->kd", prec, m)
        const = log_const - 0.5 * np.einsum("kd,kd->k", lin, m)
    elif kind == "diag":
        prec = prec_chol**2
        quad, lin = -0.5 * prec, prec * m
        const = log_const - 0.5 * np.sum(prec * m * m, axis=1)
    elif kind == "spherical":
        prec = prec_chol**2
        quad, lin = -0.5 * prec[:, None], prec[:, None] * m
        const = log_const - 0.5 * prec * np.sum(m * m, axis=1)
    else:  # tied: unit spherical on whitened rows z, centres b_k
        b = m @ prec_chol
        quad, lin = np.full((k, 1), -0.5), b
        const = log_const - 0.5 * np.sum(b * b, axis=1)
    return np.concatenate([quad, lin, const[:, None]], axis=1)


@functools.cache
def upper_triangle(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(size)``, made once per size and read-only: every pass of a small fit needed it twice
    (25 µs each, a tenth of a pass over 272 rows)."""
    rows, cols = np.triu_indices(size)
    rows.flags.writeable = cols.flags.writeable = False
    return rows, cols


@functools.cache
def pair_features(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (i, j) whose products Φ holds first, in its order, read-only.

    Row s·D + i is the pair (i, (i + s) mod D), for the offsets s < D/2, then for even D the pairs (i, i + D/2),
    i < D/2: one multiply of the rows by a sliding window over them written twice makes all but those
    (``fill_features``), where a loop over i took 64 multiplies at D = 64 and 1.4× the time.
    """
    shifts, half = (size + 1) // 2, size // 2 if size % 2 == 0 else 0
    first = np.concatenate([np.tile(np.arange(size), shifts), np.arange(half)])
    second = np.concatenate([(first[:shifts * size] + np.repeat(np.arange(shifts), size)) % size,
                             np.arange(half) + half])
    first.flags.writeable = second.flags.writeable = False
    return first, second


@functools.cache
def upper_triangle_features(size: int) -> np.ndarray:
    """Row of Φ holding each pair of ``upper_triangle(size)``, read-only: the pair (i, j), i ≤ j, is at offset
    j − i from i, or at offset D − (j − i) from j when that is the shorter way round."""
    rows, cols = upper_triangle(size)
    shift = cols - rows
    wrap = shift > size // 2
    index = np.where(wrap, (size - shift) * size + cols, shift * size + rows)
    index.flags.writeable = False
    return index


def n_phi_features(kind: str, n_features: int) -> int:
    """Rows of the statistics' feature map Φ for ``kind`` (tied keeps x − g and 1; its scatter is separate)."""
    d = n_features
    return {"full": d * (d + 1) // 2 + d + 1, "diag": 2 * d + 1, "spherical": d + 2, "tied": d + 1}[kind]


def fill_features(XcT: np.ndarray, kind: str, out: np.ndarray, doubled: np.ndarray | None = None) -> np.ndarray:
    """Write Φ of centred rows ``XcT`` (D, rows) into ``out`` (F, rows) and return it (see the module doc).

    ``doubled``: scratch of (2D, rows) or more for the full kind (allocated when None).
    """
    d, n = XcT.shape
    o = 0
    if kind == "full":
        o = d * (d + 1) // 2
        _fill_pair_products(XcT, out[:o], np.empty((2 * d, n), XcT.dtype) if doubled is None else doubled)
    elif kind == "diag":
        np.multiply(XcT, XcT, out=out[:d])
        o = d
    elif kind == "spherical":
        np.einsum("dn,dn->n", XcT, XcT, out=out[0])
        o = 1
    out[o:o + d] = XcT
    out[o + d] = 1.0
    return out


def _fill_pair_products(XcT: np.ndarray, out: np.ndarray, doubled: np.ndarray) -> None:
    """``out`` (D(D + 1)/2, n) = the pair products of XcT (D, n) in ``pair_features``' order: one multiply by a
    sliding window over [XcT; XcT] (window s, row i is row i + s), one more for the half offset of even D."""
    d, n = XcT.shape
    shifts, half = (d + 1) // 2, d // 2
    doubled = doubled[:2 * d, :n]
    doubled[:d] = XcT
    doubled[d:] = XcT
    step = doubled.strides[0]
    window = np.lib.stride_tricks.as_strided(doubled, shape=(shifts, d, n), strides=(step, step, doubled.strides[1]),
                                             writeable=False)
    np.multiply(XcT, window, out=np.reshape(out[:shifts * d], (shifts, d, n), copy=False))
    if d % 2 == 0:
        np.multiply(XcT[:half], XcT[half:], out=out[shifts * d:])


class _Scratch:
    """Scratch arrays of one sub-block, allocated once per call and reused across its sub-blocks."""

    def __init__(self, plan: DensityPlan, rows: int, stats: bool) -> None:
        k, d, dt = plan.n_components, plan.n_features, plan.dtype
        self.xc = np.empty((d, rows), dt)
        self.log_prob = np.empty((k, rows), dt)
        self.phi = np.empty((plan.coef.shape[1], rows), dt) if plan.coef is not None else None  # expanded form
        self.z = None
        if plan.kind == "tied":  # expanded: z = W(x − g) is written into Φ = [‖z‖², z, 1], whose ones row is set once
            self.z = np.empty((d, rows), dt) if self.phi is None else self.phi[1:d + 1]
            if self.phi is not None:
                self.phi[d + 1] = 1.0
        # centred: (K·D, rows) whitened differences of every component; whitened: (rows, D), x − c_k of one
        # component (whitened in place by TRMM)
        self.y = np.empty((k * d, rows), dt) if plan.form == "centred" else \
            np.empty((rows, d), dt) if plan.form == "whitened" else None
        self.xa = np.ones((d + 1, rows), dt) if plan.form == "centred" and plan.kind == "full" else None
        # [x − g; x − g] for the sliding window of the pair products (full Φ, densities or statistics)
        self.doubled = np.empty((2 * d, rows)) if plan.kind == "full" and plan.form != "whitened" else None
        self.partial = np.empty((k, rows), dt) if plan.kind == "full" and plan.form == "expanded" else None
        if stats:
            same = dt == plan.stats_dtype  # float64 data, or float32 data with float32 sub-block statistics
            self.shared_phi = same and plan.form == "expanded" and plan.kind != "tied"
            own = None if self.shared_phi else np.empty((n_phi_features(_stats_layout(plan), d), rows))
            self.phi64 = self.phi if own is None else own
            self.phi64_filled = self.shared_phi  # no fill per sub-block
            self.xc64 = self.xc if same else np.empty((d, rows))
            # The statistics' Φ of tied and whitened rows is [x − g; 1]: x − g is computed into it, the ones once.
            if own is not None and _stats_layout(plan) == "tied":
                self.xc64 = own[:d]
                if same:
                    self.xc = self.xc64
                own[d] = 1.0
                self.phi64_filled = True
            self.resp = self.log_prob if same else np.empty((k, rows))
            # √r ⊙ (x − c_k) in float64 for the whitened form's SYRK
            self.diff64 = (self.y if same else np.empty((rows, d))) if plan.form == "whitened" else None


def _stats_layout(plan: DensityPlan) -> str:
    """Kind of Φ the statistics GEMM uses: the whitened form takes only x − g and 1 (tied's), its scatter is SYRK."""
    return "tied" if plan.form == "whitened" else plan.kind


def sub_block_rows(plan: DensityPlan, n_rows: int) -> int:
    """Rows per sub-block so that its widest scratch array takes about SUB_BLOCK_BYTES."""
    k, d = plan.n_components, plan.n_features
    if plan.form == "whitened":  # (rows, D) buffers; P_k read once per component and sub-block, and each scatter
        # added to its sum once per sub-block: at D = 1,024 a SYRK took 28 µs a row on 512 rows, 19 on 2,048
        rows = min(max(SUB_BLOCK_BYTES // (8 * d), MIN_SUB_BLOCK_ROWS, WHITENED_ROWS_PER_FEATURE * d),
                   MAX_SUB_BLOCK_BYTES // (8 * d))
        return int(max(1, min(rows, n_rows)))
    if _separable(plan):  # Φ and the (K, rows) terms, and their float64 twins for float64 statistics
        f = n_phi_features(plan.kind, d)
        twins = 0 if plan.stats_dtype == plan.dtype else f + k
        return _rows_for(max(f, k) + twins, n_rows, SEPARABLE_SUB_BLOCK_BYTES)
    widest = max(n_phi_features(plan.kind, d) + d, k * d if plan.form == "centred" else k, k)
    rows = _rows_for(widest, n_rows)
    if plan.kind == "full" and plan.form == "expanded":
        rows = min(max(rows, FULL_EXPANDED_MIN_ROWS), n_rows, MAX_SUB_BLOCK_BYTES // (8 * widest))
    return max(1, rows)


def _separable(plan: DensityPlan) -> bool:
    """Whether the plan takes ``_add_separable_sub_blocks``: diag/spherical covariances, expanded."""
    return plan.form == "expanded" and plan.kind in ("diag", "spherical")



def _rows_for(widest: int, n_rows: int, sub_block_bytes: int | None = None) -> int:
    budget = SUB_BLOCK_BYTES if sub_block_bytes is None else sub_block_bytes
    rows = min(max(budget // (8 * widest), MIN_SUB_BLOCK_ROWS), MAX_SUB_BLOCK_BYTES // (8 * widest))
    return int(max(1, min(rows, n_rows)))


def _log_prob_T(plan: DensityPlan, XT: np.ndarray, s: _Scratch, n: int) -> np.ndarray:
    """log w_k + log N(x | k) of the rows ``XT`` (D, n) as a (K, n) view of the scratch (overwritten next call)."""
    xc = np.subtract(XT, plan.g.astype(plan.dtype)[:, None], out=s.xc[:, :n])
    out = s.log_prob[:, :n]
    if plan.form == "whitened":
        return _whitened_log_prob_T(plan, XT, s, out)
    # The plan's kind and form decide which of its arrays, and of the scratch's, are there.
    if plan.kind == "tied":
        assert plan.whiten is not None and s.z is not None
        z = np.matmul(plan.whiten, xc, out=s.z[:, :n])
    if plan.form == "expanded":
        assert plan.coef is not None and s.phi is not None
        if plan.kind == "tied":  # z and the ones are in place already
            phi = s.phi[:, :n]
            np.einsum("dn,dn->n", z, z, out=phi[0])
        else:
            phi = fill_features(xc, plan.kind, s.phi[:, :n], s.doubled)
        if plan.kind == "full":
            assert s.partial is not None
            _sliced_matmul(plan.coef, phi, out, s.partial[:, :n])
        else:
            np.matmul(plan.coef, phi, out=out)
        if plan.dead.size:  # zero-weight components: their coef has a finite stand-in for log 0
            out[plan.dead] = -np.inf
        return out  # a value above its component's log_const (rounding) is capped where it matters: ``_peaks``
    k, d = plan.n_components, plan.n_features
    assert s.y is not None
    y2 = s.y[:, :n]
    if plan.kind == "full":
        assert plan.whiten is not None and s.xa is not None
        s.xa[:d, :n] = xc
        np.matmul(plan.whiten, s.xa[:, :n], out=y2)
    y = y2.reshape(k, d, n)
    if plan.kind == "tied":
        assert plan.offsets is not None
        np.subtract(z[None], plan.offsets[:, :, None], out=y)
    np.multiply(y, y, out=y)
    np.sum(y, axis=1, out=out)
    np.multiply(out, -0.5, out=out)
    return np.add(out, plan.log_const[:, None], out=out)


def feature_slice(n_components: int, rows: int) -> int:
    """Features per slice of the full kind's GEMMs over ``rows`` rows (SMALL_GEMM_SIZE), 0 for one GEMM."""
    step = SMALL_GEMM_SIZE // max(n_components * rows, 1)
    return step if step >= MIN_SLICE_FEATURES else 0


def _sliced_matmul(coef: np.ndarray, phi: np.ndarray, out: np.ndarray, partial: np.ndarray) -> np.ndarray:
    """``coef @ phi`` (K, F) @ (F, n) into ``out``, summed over slices of F small enough for OpenBLAS's unpacked
    kernels (``feature_slice``); ``partial`` is scratch like ``out``. D = 64, K = 16, 256 rows: 2.3 µs a row, 2.6
    packed."""
    step = feature_slice(*out.shape)
    if not step:
        return np.matmul(coef, phi, out=out)
    np.matmul(coef[:, :step], phi[:step], out=out)
    for start in range(step, phi.shape[0], step):
        np.matmul(coef[:, start:start + step], phi[start:start + step], out=partial)
        np.add(out, partial, out=out)
    return out


def _whitened_log_prob_T(plan: DensityPlan, XT: np.ndarray, s: _Scratch, out: np.ndarray) -> np.ndarray:
    """The whitened form of ``_log_prob_T``: ‖(x − c_k) P_k‖² by one product per component.

    An upper triangular P_k (every model's but a user's precisions) multiplies the rows in place by BLAS's TRMM
    through ``lapack``, without the GIL (SciPy's Python BLAS wrappers hold it: blocks on two threads ran one
    after the other), at D²n flops; other factors take NumPy's GEMM, 2D²n.
    """
    assert plan.whiten is not None and plan.offsets is not None and s.y is not None
    n = out.shape[1]
    rows = XT.T
    y = s.y[:n]  # C-ordered (n, D)
    by_trmm = plan.upper and lapack.can_multiply_by_upper(plan.dtype)
    z = y if by_trmm else np.empty_like(y)
    for k in range(plan.n_components):
        np.subtract(rows, plan.offsets[k], out=y)
        if by_trmm:
            lapack.multiply_by_upper(y, plan.whiten[k].T)
        else:
            np.matmul(y, plan.whiten[k].T, out=z)
        np.einsum("nd,nd->n", z, z, out=out[k])
    np.multiply(out, -0.5, out=out)
    return np.add(out, plan.log_const[:, None], out=out)


def _add_component_scatters(acc: _StatsSum, rows: np.ndarray, resp_T: np.ndarray, center: np.ndarray,
                            scratch: np.ndarray | None = None) -> None:
    """Add Σ r (x − c_k)(x − c_k)ᵀ of ``rows`` (n, D) for every component: one SYRK of √r ⊙ (x − c_k) each, over
    the rows with r ≠ 0 (all of them for soft responsibilities, a k-means label's own rows: a K-th of the work;
    NaN kept, so statistics that overflowed stay not finite). Responsibilities are non-negative.

    ``scratch``: float64 (n or more, D) for the differences when every row takes part (allocated when None)."""
    root = np.sqrt(resp_T)
    n = rows.shape[0]
    for k in range(center.shape[0]):
        held = resp_T[k] != 0
        if held.all():
            diff = np.subtract(rows, center[k], dtype=np.float64, out=None if scratch is None else scratch[:n])
            diff *= root[k][:, None]
        else:
            index = np.flatnonzero(held)
            if not index.size:
                continue
            diff = np.subtract(rows[index], center[k], dtype=np.float64)
            diff *= root[k, index][:, None]
        acc.add_scatter(k, diff)


#: Room kept above the smallest normal number by the responsibilities the floor below gives: e^8 ≈ 3,000, so the
#: products of a statistics GEMM stay normal too.
EXP_FLOOR_MARGIN = 8.0
#: The most a sample weight below 1 may raise the floor (e^-20): smaller weights give subnormals, slow but exact.
EXP_FLOOR_MAX_WEIGHT_ROOM = 20.0


def exp_floor(dtype: np.dtype, n_components: int, smallest_weight: float = 1.0) -> float:
    """Floor of log-probabilities relative to a row's largest before exp, so no responsibility is subnormal.

    A responsibility is e^(log p − peak) · weight / total with total ≤ K. Subnormal numbers are 100-150× slower in
    exp and in a GEMM on these Intel cores (a float32 K = 256 statistics GEMM: 1.1 ms on normal numbers, 159 ms
    on values at 1e-38), so a row's terms below log(tiny) + log K − log(weight) + margin are raised to it:
    e^-74 of the peak in float32 at K = 256, e^-693 in float64 at K = 2048, far below any rounding of the sum.
    """
    weight_room = min(max(-math.log(smallest_weight), 0.0), EXP_FLOOR_MAX_WEIGHT_ROOM) if smallest_weight > 0 \
        else 0.0
    return (math.log(float(np.finfo(dtype).tiny)) + math.log(max(n_components, 1)) + weight_room
            + EXP_FLOOR_MARGIN)


def _peaks(plan: DensityPlan, log_prob_T: np.ndarray, X: np.ndarray, params: GaussianParams) -> np.ndarray:
    """Each row's largest log-probability (n,), after recomputing the rows where it is not finite; -inf for a row
    whose log-probabilities are all below X's dtype's range.

    A squared distance is never negative, so no log-probability exceeds its component's ``log_const``; the
    expanded form's GEMM can round past it, and where a row's peak does (a row far off, its terms cancelling)
    that row is capped. Capping every entry instead cost a pass over the (K, n) block.

    The features (x − g)² overflow beyond |x − g| ≈ 1e154 (1e19 in float32) and then give -inf, or NaN (inf − inf),
    even for a row near a component. Such rows of ``log_prob_T`` (K, n) are recomputed in float64 from centred
    differences, which are -inf only for a row too far from every component to represent.
    """
    peak = np.max(log_prob_T, axis=0)
    if plan.form == "expanded":
        over = np.flatnonzero(peak > plan.max_log_const)
        if over.size:
            capped = np.minimum(log_prob_T[:, over], plan.log_const[:, None])
            log_prob_T[:, over] = capped
            peak[over] = np.max(capped, axis=0)
    far = np.flatnonzero(~(peak > -np.inf))
    if far.size:
        with np.errstate(over="ignore"):  # float32: a log-density below -3e38 is -inf
            X64 = X[far].astype(np.float64)
            log_prob_T[:, far] = (centred_log_gaussian_prob(X64, params) + log_weights(X64, params)).T
        peak[far] = np.max(log_prob_T[:, far], axis=0)
    if log_prob_T.dtype != X.dtype:  # widened float32 data: a row X's dtype cannot score is as far as in float32
        peak[peak < -np.finfo(X.dtype).max] = -np.inf
    return peak


def _shifted_exp(plan: DensityPlan, log_prob_T: np.ndarray, peak: np.ndarray, out: np.ndarray,
                 smallest_weight: float = 1.0) -> None:
    """exp(log_prob − peak) into ``out`` (K, n), floored at ``exp_floor``, zero for zero-weight components.

    Where the peak is -inf (a row too far from every component) ``out`` holds equal values: the live components
    share the row equally.
    """
    safe = np.where(np.isfinite(peak), peak, 0.0)
    np.subtract(log_prob_T, safe, out=out)
    np.maximum(out, exp_floor(out.dtype, plan.n_components, smallest_weight), out=out)
    np.exp(out, out=out)
    if plan.dead.size:
        out[plan.dead] = 0.0


def _normalise(plan: DensityPlan, log_prob_T: np.ndarray, peak: np.ndarray, resp_out: np.ndarray,
               weight: np.ndarray | None) -> np.ndarray:
    """Turn (K, n) log-probabilities into (weighted) responsibilities in ``resp_out``; return log p(x), (n,).

    Runs inside ``fast_chunk_stats``'s _OVERFLOW_HANDLED: log p(x) of a far row is -inf + -inf (no warning)."""
    positive = None if weight is None else weight[weight > 0]
    _shifted_exp(plan, log_prob_T, peak, log_prob_T, 1.0 if positive is None or not positive.size
                 else float(np.min(positive)))
    total = np.sum(log_prob_T, axis=0)
    scale = ((1.0 if weight is None else weight) / total.astype(np.float64)).astype(log_prob_T.dtype)
    np.multiply(log_prob_T, scale, out=log_prob_T)  # in X's dtype: a mixed-dtype multiply is 3× slower
    if resp_out is not log_prob_T:
        np.copyto(resp_out, log_prob_T)
    return np.where(np.isfinite(peak), np.log(total) + peak, peak)


def fill_separable_features(X: np.ndarray, g: np.ndarray, kind: str, out: np.ndarray) -> np.ndarray:
    """``fill_features`` of diag/spherical rows ``X`` (rows, D) about ``g`` (in the dtype to subtract in) into
    ``out`` (F, rows), x − g written in place.

    A transposing copy, then contiguous passes, and x − g is not copied into Φ afterwards: 105 ns a row at
    D = 32 (float64), where a transposing subtract and ``fill_features`` took 150-180."""
    d = X.shape[1]
    lead = d if kind == "diag" else 1
    xc = out[lead:lead + d]
    np.copyto(xc, X.T)
    np.subtract(xc, g[:, None], out=xc)
    if kind == "diag":
        np.multiply(xc, xc, out=out[:d])
    else:
        np.einsum("dn,dn->n", xc, xc, out=out[0])
    out[-1] = 1.0
    return out


#: The shared shift below floors a row's terms at exp_floor − (peak − C) of its peak instead of exp_floor; rows
#: whose terms sum to less than e^-reach take the per-row path, with reach chosen so that the floored terms of
#: the others add at most e^-SHARED_SHIFT_MARGIN to their sum (below float64's rounding).
SHARED_SHIFT_MARGIN = 40.0
#: Fewest log-units a shared shift must reach below C to be worth it: float32's range leaves it ~20, which most
#: rows of a D = 40 mixture fall beyond, so float32 rows keep the per-row peak.
SHARED_SHIFT_MIN_REACH = 200.0


@dataclass(frozen=True, slots=True)
class _SharedShift:
    """exp(log p − C) with C the largest log-probability any row can have (``max_log_const``), folded into the
    densities GEMM: a row's own peak is needed only where its terms sum outside [e^-reach, 1].

    Saves the per-row max and subtraction passes over the (K, rows) block (~80 of 870 ns a row at D = 32, K = 64).
    """

    coef: np.ndarray  # the plan's coef with C subtracted from the constant column
    shift: float  # C
    floor: float  # exp_floor: every term is at least e^floor, a normal number
    lowest_total: float  # e^-reach
    ones: np.ndarray  # (K,): a row's sum of terms as a matrix-vector product, faster than np.sum over axis 0


def _shared_shift(plan: DensityPlan, smallest_weight: float) -> _SharedShift | None:
    """The shared shift for the plan, or None when the dtype's range leaves too little room (float32)."""
    assert plan.coef is not None
    shift, k = plan.max_log_const, plan.n_components
    floor = exp_floor(plan.dtype, k, smallest_weight)
    reach = -floor - 2.0 * math.log(max(k, 1)) - SHARED_SHIFT_MARGIN
    if not math.isfinite(shift) or reach < SHARED_SHIFT_MIN_REACH:
        return None
    coef = plan.coef.copy()
    coef[:, -1] -= plan.dtype.type(shift)
    return _SharedShift(coef, shift, floor, math.exp(-reach), np.ones(k, plan.dtype))


def _shared_shift_exp(plan: DensityPlan, shared: _SharedShift, log_prob_T: np.ndarray, phi: np.ndarray,
                      X: np.ndarray, params: GaussianParams, weight: np.ndarray | None,
                      smallest_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Log-probabilities less C (K, n), from ``shared.coef``, turned in place into terms whose row sums are the
    row's total; return log p(x) and the (weighted) scale that makes the terms responsibilities, (n,) each.

    Rows whose sum leaves [e^-reach, 1] (far rows, or a term rounded above C) are rescored with their own peak,
    as ``_peaks`` and ``_shifted_exp`` do."""
    e = log_prob_T
    if plan.dead.size:
        e[plan.dead] = -np.inf
    np.maximum(e, shared.floor, out=e)
    np.exp(e, out=e)
    if plan.dead.size:
        e[plan.dead] = 0.0
    total = shared.ones @ e
    odd = np.flatnonzero(~(total >= shared.lowest_total))  # NaN too: features that overflowed
    high = np.flatnonzero(total > 1.0)
    if high.size:  # above 1 only when some term is: the expansion rounded past its component's log_const
        high = high[np.max(e[:, high], axis=0) > 1.0]
    rows = np.concatenate([odd, high]) if high.size else odd
    log_prob = np.log(total)
    log_prob += plan.dtype.type(shared.shift)
    if rows.size:
        assert plan.coef is not None
        lp = plan.coef @ phi[:, rows]
        if plan.dead.size:
            lp[plan.dead] = -np.inf
        peak = _peaks(plan, lp, X[rows], params)
        _shifted_exp(plan, lp, peak, lp, smallest_weight)
        e[:, rows] = lp
        total[rows] = np.sum(lp, axis=0)
        with np.errstate(divide="ignore"):
            log_prob[rows] = np.where(np.isfinite(peak), np.log(total[rows]) + peak, peak)
    return log_prob, np.divide(1.0 if weight is None else weight, total)  # float64, as the terms


#: A row's scale is applied to its features Φ rather than its terms only while scale · max(‖x − g‖², 1) stays
#: below this: e^-reach ≤ a row's total lets its scale reach e^650, which could overflow Φ.
PHI_SCALE_MAX = 2.0**1000


def _apply_scale(kind: str, terms: np.ndarray, phi: np.ndarray, scale: np.ndarray) -> None:
    """Make terms (K, n) ⊙ scale (n,) the responsibilities the statistics GEMM (terms with Φ) sees: by scaling
    spherical Φ (F, n) when it has fewer rows (F = D + 2: 10 against 30 ns a row at D = 16, K = 64), else the terms.

    Spherical Φ's first row ‖x − g‖² bounds every entry of its column above 1, so a column is scaled only where
    that cannot overflow; other rows scale their terms."""
    if kind != "spherical" or phi.shape[0] >= terms.shape[0]:
        np.multiply(terms, scale, out=terms)
        return
    with np.errstate(over="ignore"):
        risky = np.flatnonzero(~(scale * np.maximum(phi[0], 1.0) <= PHI_SCALE_MAX))
    if risky.size:
        terms[:, risky] *= scale[risky]
        scale[risky] = 1.0
    np.multiply(phi, scale, out=phi)


def _add_separable_sub_blocks(plan: DensityPlan, X: np.ndarray, params: GaussianParams, weight: np.ndarray | None,
                              acc: _StatsSum, log_prob: np.ndarray) -> None:
    """The sub-block loop of ``fast_chunk_stats`` for diag/spherical covariances (shared shift, faster Φ)."""
    assert plan.coef is not None
    n, d = X.shape
    f, k = plan.coef.shape[1], plan.n_components
    same = plan.stats_dtype == plan.dtype
    rows = sub_block_rows(plan, n)
    phi_all = np.empty((f, rows), plan.dtype)
    phi64_all = phi_all if same else np.empty((f, rows))
    log_prob_all = np.empty((k, rows), plan.dtype)
    resp_all = log_prob_all if same else np.empty((k, rows))
    positive = None if weight is None else weight[weight > 0]
    smallest_weight = 1.0 if positive is None or not positive.size else float(np.min(positive))
    shared = _shared_shift(plan, smallest_weight) if same else None  # float64 rows: Φ and terms feed the stats
    g = plan.g.astype(plan.dtype)
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        nb = stop - start
        Xb = X[start:stop]
        wb = None if weight is None else weight[start:stop]
        phi = fill_separable_features(Xb, g, plan.kind, phi_all[:, :nb])
        lp = np.matmul(plan.coef if shared is None else shared.coef, phi, out=log_prob_all[:, :nb])
        resp = resp_all[:, :nb]
        if shared is None:
            if plan.dead.size:
                lp[plan.dead] = -np.inf
            log_prob[start:stop] = _normalise(plan, lp, _peaks(plan, lp, Xb, params), resp, wb)
        else:
            log_prob[start:stop], scale = _shared_shift_exp(plan, shared, lp, phi, Xb, params, wb, smallest_weight)
            _apply_scale(plan.kind, lp, phi, scale)
        phi64 = phi if same else fill_separable_features(Xb, plan.g, plan.kind, phi64_all[:, :nb])
        acc.add_separable(resp, phi64)


#: Squares of rows beyond ~1e154 (1e19 in float32) overflow to inf or NaN: ``_peaks`` rescores those rows and the
#: M-step reports statistics that are not finite, so the fast functions run without these warnings.
_OVERFLOW_HANDLED = np.errstate(over="ignore", invalid="ignore")


@_OVERFLOW_HANDLED
def fast_log_resp(X: np.ndarray, params: GaussianParams, form: str | None = None,
                  plan: DensityPlan | None = None) -> tuple[np.ndarray, np.ndarray]:
    """log p(x) (n,) and log p(k | x) (n, K) in X's dtype; the fast twin of ``estep.log_resp``.

    ``plan``: ``density_plan(params, X.dtype, form)``, prepared once per pass (computed here when None).
    """
    plan = density_plan(params, X.dtype, form) if plan is None else plan
    n, k = X.shape[0], plan.n_components
    log_prob = np.empty(n, X.dtype)
    log_resp = np.empty((n, k), X.dtype)
    rows = sub_block_rows(plan, n)
    s = _Scratch(plan, rows, stats=False)
    work = np.empty_like(s.log_prob)
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        lp = _log_prob_T(plan, X[start:stop].T, s, stop - start)
        peak = _peaks(plan, lp, X[start:stop], params)
        shares = work[:, :stop - start]
        _shifted_exp(plan, lp, peak, shares)
        total = np.sum(shares, axis=0)
        row_log_prob = np.where(np.isfinite(peak), np.log(total) + peak, peak)  # in the plan's dtype...
        with np.errstate(invalid="ignore"):  # -inf − -inf: the far rows, overwritten below
            np.subtract(lp, row_log_prob, out=log_resp[start:stop].T)
        log_prob[start:stop] = row_log_prob  # ...rounded to X's only once the differences are taken
        far = np.flatnonzero(~np.isfinite(peak))
        if far.size:  # too far from every component: shared equally by the live ones, as in the statistics
            with np.errstate(divide="ignore"):
                log_resp[start + far] = np.log(shares[:, far] / total[far]).T
    return log_prob, log_resp


@_OVERFLOW_HANDLED
def fast_chunk_stats(
    X: np.ndarray, params: GaussianParams, sample_weight: np.ndarray | None = None, row_offset: int = 0,
    form: str | None = None, plan: DensityPlan | None = None, worst_rows: bool = True,
) -> SufficientStats:
    """Sufficient statistics of the rows X under ``params``; the fast twin of ``estep.chunk_stats``.

    ``plan``: ``density_plan(params, X.dtype, form)``, prepared once per pass (computed here when None).
    ``worst_rows``: whether to find the worst-explained rows (False leaves them empty, as ``estep.chunk_stats``).
    """
    plan = density_plan(params, X.dtype, form) if plan is None else plan
    n = X.shape[0]
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    log_prob = np.empty(n)
    if _separable(plan):
        separable = _StatsSum(plan.kind, plan.center, plan.g, params)
        _add_separable_sub_blocks(plan, X, params, w, separable, log_prob)
        return separable.result(n if w is None else float(np.sum(w)), log_prob, w, X, row_offset, worst_rows)
    rows = sub_block_rows(plan, n)
    acc = _StatsSum(plan.kind, plan.center, plan.g, params, whitened=plan.form == "whitened",
                    slice_features=feature_slice(plan.n_components, rows))
    s = _Scratch(plan, rows, stats=True)
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        nb = stop - start
        XT = X[start:stop].T
        lp = _log_prob_T(plan, XT, s, nb)
        peak = _peaks(plan, lp, X[start:stop], params)
        resp = s.resp[:, :nb]
        log_prob[start:stop] = _normalise(plan, lp, peak, resp, None if w is None else w[start:stop])
        xc64 = s.xc[:, :nb] if s.xc64 is s.xc else np.subtract(XT, plan.g[:, None], out=s.xc64[:, :nb])
        phi64 = s.phi64  # the scratch's phi when shared, or holding x − g already, else filled here
        assert phi64 is not None
        phi = phi64[:, :nb] if s.phi64_filled else fill_features(xc64, _stats_layout(plan), phi64[:, :nb], s.doubled)
        acc.add(resp, phi, xc64, None if w is None else w[start:stop], normalised=True)
        if plan.form == "whitened":
            _add_component_scatters(acc, XT.T, resp, plan.center, s.diff64)
    return acc.result(n if w is None else float(np.sum(w)), log_prob, w, X, row_offset, worst_rows)


@_OVERFLOW_HANDLED
def fast_resp_stats(
    X: np.ndarray, resp: np.ndarray, sample_weight: np.ndarray | None, center: np.ndarray, covariance_type: str,
) -> SufficientStats:
    """Statistics of rows X with given responsibilities about ``center``; the fast twin of ``estep.resp_stats``.

    Full covariances at the dimensions where the E-step takes the whitened form sum each component's scatter
    by a SYRK over the rows it holds, as that form does: Φ's D(D + 1)/2 pair features took 17 s of a 2,500 ×
    1,024 k-means start.
    """
    center = np.asarray(center, dtype=np.float64)
    k, d = center.shape
    g = center.mean(axis=0).astype(X.dtype).astype(np.float64)
    whitened = covariance_type == "full" and default_form("full", X.dtype, d, k) == "whitened"
    layout = "tied" if whitened else covariance_type  # the whitened form's: x − g and 1, its scatter by SYRK
    acc = _StatsSum(covariance_type, center, g, whitened=whitened)
    n = X.shape[0]
    f = n_phi_features(layout, d)
    rows = _rows_for(max(f + d, k), n)
    if whitened:
        rows = max(rows, min(WHITENED_ROWS_PER_FEATURE * d, n))
    xc64, phi64, doubled = np.empty((d, rows)), np.empty((f, rows)), np.empty((2 * d, rows))
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        nb = stop - start
        r = np.asarray(resp[start:stop], dtype=np.float64).T
        if w is not None:
            r = r * w[start:stop]
        xc = np.subtract(X[start:stop].T, g[:, None], out=xc64[:, :nb])
        acc.add(r, fill_features(xc, layout, phi64[:, :nb], doubled), xc)
        if whitened:
            _add_component_scatters(acc, X[start:stop], r, center)
    total = float(np.sum(acc.phi[:, -1])) if w is None else float(np.sum(w))
    return acc.result(total, None, None, X, 0)


class _StatsSum:
    """Running float64 sums resp @ Φᵀ (and the tied scatter) about g, turned into SufficientStats about c."""

    def __init__(self, kind: str, center: np.ndarray, g: np.ndarray, params: GaussianParams | None = None,
                 whitened: bool = False, slice_features: int = 0) -> None:
        k, d = center.shape
        self.kind, self.center, self.g, self.params = kind, center, g, params
        f = n_phi_features("tied" if whitened else kind, d)
        # Full Φ in slices of features (``feature_slice``): sums kept as (F, K); ``phi`` is their (K, F) view.
        self.slice_features = slice_features if kind == "full" and not whitened else 0
        self.phi_T = np.zeros((f, k)) if self.slice_features else None
        self.phi = np.zeros((k, f)) if self.phi_T is None else self.phi_T.T
        self.scatter = np.zeros((d, d)) if kind == "tied" else None
        # Whitened full: each component's scatter about its centre.
        self.component_scatter = np.zeros((k, d, d)) if whitened else None

    def add_scatter(self, k: int, weighted_diff: np.ndarray) -> None:
        """Add weighted_diffᵀ weighted_diff (rows, D) to component k's scatter. NumPy runs Aᵀ·A as a SYRK and
        mirrors it (exactly symmetric), without the GIL SciPy's ``dsyrk`` wrapper holds."""
        assert self.component_scatter is not None
        self.component_scatter[k] += weighted_diff.T @ weighted_diff

    def add(self, resp_T: np.ndarray, phi: np.ndarray, xc64: np.ndarray, row_weight: np.ndarray | None = None,
            normalised: bool = False) -> None:
        """Add the sub-block with (weighted) responsibilities (K, n), features (F, n) and centred rows (D, n).

        ``normalised``: each row's responsibilities sum to its weight (``row_weight``, 1 when None), as the
        E-step's do, so the tied scatter Σ_k r_k (x − g)(x − g)ᵀ is Σ w (x − g)(x − g)ᵀ: without the weights, one
        SYRK and no pass over the responsibilities. Given responsibilities are summed as they are."""
        step = self.slice_features
        if self.phi_T is None:
            self.phi += resp_T @ phi.T
        else:  # D = 64, K = 16, 256 rows: 6.4 µs a row in all, 7.4 in one GEMM
            resp = np.ascontiguousarray(resp_T.T)
            for start in range(0, phi.shape[0], step):
                self.phi_T[start:start + step] += phi[start:start + step] @ resp
        if self.scatter is not None:
            if not normalised:
                self.scatter += (xc64 * np.sum(resp_T, axis=0)) @ xc64.T
            elif row_weight is None:
                self.scatter += xc64 @ xc64.T
            else:  # √w ⊙ (x − g), so that NumPy runs Aᵀ·A as a SYRK
                root = xc64 * np.sqrt(row_weight)
                self.scatter += root @ root.T

    def add_separable(self, resp_T: np.ndarray, phi: np.ndarray) -> None:
        """``add`` for diag/spherical covariances. In float64 as Φ @ respᵀ, faster than resp @ Φᵀ at these shapes:
        D = 32, K = 64: 200 against 215 ns a row; D = 16: 76 against 93; D = 40, K = 256: 830 against 920 (but
        slower in float32: 470 against 400)."""
        if phi.dtype == np.float64:
            self.phi += (phi @ resp_T.T).T
        else:
            self.phi += resp_T @ phi.T

    def result(self, n: float, log_prob: np.ndarray | None, weight: np.ndarray | None, X: np.ndarray,
               row_offset: int, find_worst: bool = True) -> SufficientStats:
        k, d = self.center.shape
        nk = self.phi[:, -1].copy()
        f = self.phi[:, -1 - d:-1]
        m = self.center - self.g
        first = f - nk[:, None] * m
        if self.component_scatter is not None:
            second = self.component_scatter
        elif self.kind == "full":
            iu, ju = upper_triangle(d)
            s = np.empty((k, d, d))
            pairs = self.phi[:, upper_triangle_features(d)]
            s[:, iu, ju] = pairs
            s[:, ju, iu] = pairs
            fm = f[:, :, None] * m[:, None, :]
            second = s - fm - np.transpose(fm, (0, 2, 1)) + nk[:, None, None] * m[:, :, None] * m[:, None, :]
        elif self.kind == "tied":
            fm = f.T @ m
            second = self.scatter - fm - fm.T + (m.T * nk) @ m
        elif self.kind == "diag":
            second = self.phi[:, :d] - 2.0 * m * f + nk[:, None] * m * m
        else:
            second = self.phi[:, 0] - 2.0 * np.sum(m * f, axis=1) + nk * np.sum(m * m, axis=1)
        worst = (np.zeros(0), np.zeros(0, np.int64), np.zeros((0, d)))  # none (a lean pass), as in zeros()
        total = np.zeros(())
        if log_prob is not None:
            assert self.params is not None  # log_prob comes with the params that gave it
            if weight is None:
                candidates, total = log_prob, np.sum(log_prob)
            else:
                positive = weight > 0
                candidates = np.where(positive, log_prob, np.inf)
                total = np.dot(weight[positive], log_prob[positive])
            if find_worst:
                worst = worst_rows(candidates, X, self.params, row_offset)
        return SufficientStats(np.asarray(float(n)), np.asarray(total, dtype=np.float64), nk, first, second,
                               self.center, self.kind, *worst)
