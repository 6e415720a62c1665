"""Full-covariance Gaussian-mixture EM as two matrix products per pass over row chunks.

The mathematics. Centre the detections on their column means c (x <- x - c; any shift
gives the same mixture, this one keeps the products below small). For component k with
weight w_k, mean mu_k and precision P_k = L_k L_k^T (L_k is sklearn's
precisions_cholesky_), the weighted log-density

    log w_k N(x | mu_k, P_k^-1) = log w_k + sum_i log L_k,ii - d/2 log 2 pi
                                  - 1/2 (x - mu_k)^T P_k (x - mu_k)

is linear in the second-moment features of x,

    phi(x) = (x_i x_j for i <= j,  x_1 .. x_d,  1)        F = d(d+1)/2 + d + 1 values,

with coefficients -P_k,ii / 2 on x_i^2, -P_k,ij on x_i x_j for i < j (P_k is symmetric),
(P_k mu_k)_i on x_i and log w_k + log det L_k - d/2 log 2 pi - mu_k^T P_k mu_k / 2 on 1.
For a chunk of m rows, all k weighted log-densities are one product W (k x F) @ Phi^T
(F x m); the M-step's sums over rows,

    N_k = sum_n r_nk,   s_k = sum_n r_nk x_n,   S_k = sum_n r_nk x_n x_n^T (i <= j),

are the columns of a second product Phi^T (F x m) @ R (m x k) with the responsibilities
R of the same chunk: an EM iteration is one pass over the rows, about 4 n F k flops
against scikit-learn's 4 n d^2 k, in two large products instead of 2k small ones. When
all rows' Phi fits in memory_budget it is built once and kept (row-major, the layout the
products read fastest); else each chunk's Phi is rebuilt in every pass, in a per-thread
buffer small enough to stay in cache between the two products, so memory is
O(threads chunk_rows F), never O(n F). The M-step follows: N_k <- N_k + 10 eps
(sklearn's guard against empty components), mu_k = s_k / N_k,
Sigma_k = S_k / N_k - mu_k mu_k^T + reg_covar I, w_k = N_k / sum N.

Exactness. Both products cancel. The one-pass Sigma_k has a rounding error of about
eps max|x - c|^2 rather than eps |Sigma_k|, and W . phi adds terms as large as
|mu_k - c|^T |P_k| |mu_k - c| (entry-wise) into a log-density of order d. So:
  - the returned M-step is computed as sklearn computes it, two-pass:
    Sigma_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T / N_k. sklearn's loop decides
    convergence from the E-step's lower bound, before the M-step of the same iteration,
    so that M-step is known to be the last one when it is computed;
  - a component whose terms would exceed CANCELLATION_LIMIT (a tight component far from
    c) has its log-density computed directly from L_k^T (x - mu_k), as sklearn does, and
    its M-step sums taken around its mean (without this, a collapsed component 1000
    units from c put 6e-7 relative error in the lower bound);
  - an intermediate one-pass covariance that is not positive definite (reg_covar below
    its rounding) is recomputed two-pass before sklearn's ValueError is raised.
On the demo (22,463 x 35, k = 6 .. 20) the kernel's fits have sklearn's n_iter_, lower
bounds within 1e-13, weights and means within 1e-12 and precisions within 1e-11
(relative, per component: clustering.em.fit_differences), and the same assignments.
Where exactness is lost: with covariances conditioned worse than ~1e11 (reg_covar
<= 1e-9 and a component spread far along a line) sklearn's own fit moves under an
exactly representable shift of the data (its lower bound by 1e-6 to 0.6 relative), and
the kernel's differs from it by as much, its n_iter_ by up to two; with reg_covar = 0
and a collapsed component, whether a covariance passes Cholesky is decided by rounding,
and the kernel has passed where sklearn raised; a lower-bound change within ~1e-13 of
tol could stop one iteration apart (not seen).
"""

from __future__ import annotations

import itertools
import math
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn import get_config
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

# Private scikit-learn helpers, safe because the version is pinned (1.9.1):
# _compute_precision_cholesky raises sklearn's own ValueError for a covariance that is not
# positive definite; _logsumexp is what predict_proba and score_samples use.
from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky
from sklearn.utils import check_random_state
from sklearn.utils._array_api import _logsumexp, get_namespace
from sklearn.utils.validation import check_is_fitted, validate_data

# A chunk's rebuilt features (F x chunk_rows doubles, 4 MB at d = 35) stay in the 32 MB L3
# between the two products of a pass, with room for a second thread; a kept chunk stays
# under numpy's 4 MiB huge-page threshold (one 120 MB huge-page array built 3x slower).
FEATURE_CHUNK_BYTES = 4 * 2**20
SCORING_CHUNK_ROWS = 4096
# All rows' features are kept between iterations up to this many bytes (the demo's
# 22,460 rows take 120 MB); beyond, they are rebuilt chunk by chunk in every pass.
MEMORY_BUDGET = 256 * 2**20
# W . phi sums terms as large as |mu_k - c|^T |P_k| |mu_k - c| (|P_k| entry-wise) to a
# log-density: its rounding error is about 1e-16 times that. Beyond this limit (an error
# of ~1e-10) a component is computed directly instead (_EStep).
CANCELLATION_LIMIT = 1e6
_LOG_2PI = math.log(2 * math.pi)
_EPS = np.finfo(np.float64).eps


def feature_count(n_features: int) -> int:
    """F, the number of second-moment features: the pairs i <= j, the features and 1."""
    return n_features * (n_features + 1) // 2 + n_features + 1


def default_chunk_rows(n_features: int) -> int:
    """Rows per chunk whose features take about FEATURE_CHUNK_BYTES, a multiple of 64."""
    rows = FEATURE_CHUNK_BYTES // (8 * feature_count(n_features))
    return max(64, min(8192, rows // 64 * 64))


def chunk_bounds(n_rows: int, chunk_rows: int) -> list[tuple[int, int]]:
    """(start, stop) of the fewest chunks of at most chunk_rows rows, sizes within one row.

    Equal sizes keep BLAS off its small-matrix paths, whose different rounding a short
    last chunk would otherwise show.
    """
    n_chunks = max(1, -(-n_rows // chunk_rows))
    edges = [n_rows * chunk // n_chunks for chunk in range(n_chunks + 1)]
    return list(itertools.pairwise(edges))


def kernel_is_faster(n_samples: int, n_features: int, n_components: int) -> bool:
    """Whether this kernel beats scikit-learn's EM for a fit of this shape.

    Per row and iteration the kernel does ~4 F k flops (F ~ d^2 / 2) in two products
    plus the building or reading of phi; sklearn does ~4 d^2 k flops in 2k smaller
    products plus ~4 d k element-wise operations. Measured on one core (10 iterations,
    n = 300, 2000, 20000; d = 2 .. 35; k = 1 .. 20): the kernel is 1.0-9.6x faster for
    d <= 8, for d <= 12 with k >= 2 and for k >= 6, and slower for larger d with few
    components (0.4x at d = 35, k = 1), where building phi is not repaid. With fewer than
    2 d k rows, components are rank-deficient, held up by reg_covar, and computed
    directly (_EStep), which is sklearn's own work plus the kernel's.
    """
    if n_samples < 2 * n_features * n_components:
        return False
    return n_features <= 8 or (n_features <= 12 and n_components >= 2) or n_components >= 6


def fit_gaussian_mixture(
    X,
    estimator: GaussianMixture,
    *,
    chunk_rows: int | None = None,
    threads: int = 1,
    memory_budget: int = MEMORY_BUDGET,
) -> GaussianMixture:
    """Fit a configured, unfitted GaussianMixture on X by chunked EM; returns it, fitted.

    The result is the estimator scikit-learn's own fit would give: its initialisation
    (estimator._initialize_parameters: k-means, k-means++, random, random_from_data or
    weights_init / means_init / precisions_init, for the same random_state), n_init with
    the best lower bound kept, warm_start, tol on the change of the lower bound, max_iter,
    converged_ and the ConvergenceWarning, reg_covar, and every fitted attribute
    (weights_, means_, covariances_, precisions_cholesky_, precisions_, converged_,
    n_iter_, lower_bound_, lower_bounds_, n_features_in_, feature_names_in_). A component
    whose covariance is not positive definite raises sklearn's ValueError.

    Falls back to estimator.fit(X) when it cannot do better exactly: a covariance_type
    other than "full", float32 data (sklearn would fit in float32), verbose output,
    max_iter = 0, array-API dispatch, fewer rows than components (sklearn raises), or a
    shape for which kernel_is_faster says no.

    Equality with sklearn: the same n_iter_ and converged_, the lower bound within 1e-13
    relative, weights and means within 1e-12 and precisions within 1e-11 on the demo
    and the real sample (tests/test_em.py); the module docstring says where and by how
    much exactness is lost in corners (ill-conditioned covariances, reg_covar = 0).

    Memory: besides X and sklearn's initialisation (k-means and one M-step on all rows,
    O(n (d + k))): n F doubles when they fit in memory_budget bytes (kept for all
    iterations), else O(threads chunk_rows F); chunk_rows defaults to
    default_chunk_rows(d). threads > 1 splits the chunks of each pass over that many
    threads with BLAS held to one thread; the partial sums are added in chunk order, so
    the fit is bit-identical whatever threads is (kept and rebuilt features give
    results equal to rounding, not bit for bit).
    """
    estimator._validate_params()
    X = validate_data(estimator, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
    n_samples, n_features = X.shape
    if (
        estimator.covariance_type != "full"
        or X.dtype != np.float64
        or estimator.verbose
        or estimator.max_iter == 0
        or get_config()["array_api_dispatch"]
        or n_samples < estimator.n_components
        or not kernel_is_faster(n_samples, n_features, estimator.n_components)
    ):
        return estimator.fit(X)
    xp, _ = get_namespace(X)
    estimator._check_parameters(X, xp=xp)

    do_init = not (estimator.warm_start and hasattr(estimator, "converged_"))
    n_init = estimator.n_init if do_init else 1
    random_state = check_random_state(estimator.random_state)
    best_lower_bound, best = -np.inf, None
    chunk_rows = chunk_rows or default_chunk_rows(n_features)
    with _RowChunks(X, chunk_rows, threads, memory_budget) as chunks:
        for _ in range(n_init):
            if do_init:
                estimator._initialize_parameters(X, random_state, xp=xp)
            start = -np.inf if do_init else estimator.lower_bound_
            # BLAS threads are the caller's to set, once per process (clustering.threads).
            result = _expectation_maximisation(chunks, estimator, start)
            if result.lower_bound > best_lower_bound or best_lower_bound == -np.inf:
                best_lower_bound, best = result.lower_bound, result

    if not best.converged:
        warnings.warn(
            "Best performing initialization did not converge. Try different init "
            "parameters, or increase max_iter, tol, or check for degenerate data.",
            ConvergenceWarning,
            stacklevel=2,
        )
    estimator._set_parameters(best.parameters)
    estimator.converged_ = best.converged
    estimator.n_iter_ = best.n_iter
    estimator.lower_bound_ = best.lower_bound
    estimator.lower_bounds_ = best.lower_bounds
    return estimator


def score_samples_and_probabilities(
    mixture: GaussianMixture, X, *, chunk_rows: int = SCORING_CHUNK_ROWS
) -> tuple[np.ndarray, np.ndarray]:
    """(mixture.predict_proba(X), mixture.score_samples(X)) in one chunked pass.

    Per row, the weighted log-densities l_k = log w_k + log N(x | k) are computed once;
    log p(x) = logsumexp_k l_k and the probabilities exp(l_k - log p(x)) follow, with
    sklearn's own formulas, so both equal sklearn's to rounding (full covariances: the
    k products X @ L_k batched into one, same arithmetic). Any covariance type; memory
    beyond the (n x k) and (n) results is O(chunk_rows k d).
    """
    check_is_fitted(mixture)
    X = validate_data(mixture, X, reset=False)
    n_samples = X.shape[0]
    dtype = np.result_type(X.dtype, mixture.means_.dtype)
    probabilities = np.empty((n_samples, mixture.n_components), dtype=dtype)
    log_likelihood = np.empty(n_samples, dtype=dtype)
    weighted_log_density = (
        _full_weighted_log_density(mixture)
        if mixture.covariance_type == "full"
        else mixture._estimate_weighted_log_prob
    )
    for start, stop in chunk_bounds(n_samples, chunk_rows):
        rows = slice(start, stop)
        weighted = weighted_log_density(X[rows])
        log_norm = _logsumexp(weighted, axis=1)
        weighted -= log_norm[:, np.newaxis]
        with np.errstate(under="ignore"):
            np.exp(weighted, out=probabilities[rows])
        log_likelihood[rows] = log_norm
    return probabilities, log_likelihood


def _full_weighted_log_density(mixture: GaussianMixture) -> Callable[[np.ndarray], np.ndarray]:
    """sklearn's full-covariance log w_k N(x | k), its k products X @ L_k as one product."""
    cholesky = mixture.precisions_cholesky_
    n_components, n_features, _ = cholesky.shape
    # [L_1 | L_2 | ... | L_k], d x kd, and sklearn's mu_k @ L_k, component by component.
    stacked = cholesky.transpose(1, 0, 2).reshape(n_features, n_components * n_features)
    shifts = np.concatenate(
        [mean @ chol for mean, chol in zip(mixture.means_, cholesky, strict=True)]
    )
    log_det = np.log(np.diagonal(cholesky, axis1=1, axis2=2)).sum(axis=1)
    log_weights = np.log(mixture.weights_)

    def weighted_log_density(rows: np.ndarray) -> np.ndarray:
        projected = rows @ stacked
        projected -= shifts
        np.square(projected, out=projected)
        mahalanobis = projected.reshape(len(rows), n_components, n_features).sum(axis=2)
        return (-0.5 * (n_features * _LOG_2PI + mahalanobis) + log_det) + log_weights

    return weighted_log_density


class _Scratch(threading.local):
    """One thread's buffers: a chunk's centred rows (transposed, d x m) and phi (F x m)."""

    def __init__(self, n_features: int, chunk_rows: int):
        self.centred = np.empty((n_features, chunk_rows))
        self.features = np.empty((feature_count(n_features), chunk_rows))


class _RowChunks:
    """X in row chunks: second-moment features per chunk and chunk-ordered sums over them.

    When all rows' features fit in memory_budget bytes they are built once and kept,
    row-major (m x F per chunk), the layout both products read fastest; else each pass
    rebuilds them chunk by chunk into a per-thread F x m buffer, the layout they are
    built fastest in.
    """

    def __init__(self, X: np.ndarray, chunk_rows: int, threads: int, memory_budget: int):
        self.X = X
        self.n_samples, self.n_features = X.shape
        self.centre = X.mean(axis=0)
        self.bounds = chunk_bounds(self.n_samples, chunk_rows)
        # phi's rows for pair (i, j), i <= j, in numpy's upper-triangle order.
        self.pair_rows, self.pair_columns = np.triu_indices(self.n_features)
        self.row_starts = np.concatenate([[0], np.cumsum(np.arange(self.n_features, 0, -1))])
        self._scratch = _Scratch(self.n_features, chunk_rows)
        self._threads = threads
        self._pool = ThreadPoolExecutor(threads) if threads > 1 else None
        self._kept = None
        if 8 * self.n_samples * feature_count(self.n_features) <= memory_budget:
            self._kept = {start: self._build_row_major(start, stop) for start, stop in self.bounds}

    def __enter__(self) -> _RowChunks:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def features(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows start:stop centred and transposed (d x m), and their phi (F x m)."""
        if self._kept is None:
            return self._build(start, stop)
        features = self._kept[start].T
        first = self.row_starts[self.n_features]
        return features[first : first + self.n_features], features

    def _build(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        m, d = stop - start, self.n_features
        centred = self._scratch.centred[:, :m]
        features = self._scratch.features[:, :m]
        np.subtract(self.X[start:stop].T, self.centre[:, np.newaxis], out=centred)
        # Row block i of phi is x_i * (x_i, ..., x_d): contiguous rows, one product each.
        for i in range(d):
            np.multiply(
                centred[i:], centred[i], out=features[self.row_starts[i] : self.row_starts[i + 1]]
            )
        features[self.row_starts[d] : -1] = centred
        features[-1] = 1.0
        return centred, features

    def _build_row_major(self, start: int, stop: int) -> np.ndarray:
        """phi of rows start:stop as an m x F array, in the order of _build's rows."""
        d = self.n_features
        centred = self.X[start:stop] - self.centre
        features = np.empty((stop - start, feature_count(d)))
        for i in range(d):
            np.multiply(
                centred[:, i:],
                centred[:, i : i + 1],
                out=features[:, self.row_starts[i] : self.row_starts[i + 1]],
            )
        features[:, self.row_starts[d] : -1] = centred
        features[:, -1] = 1.0
        return features

    def ordered_sum(self, work: Callable[[int, int], list[np.ndarray]]):
        """sum over chunks of work(start, stop), added in chunk order whatever the threads."""
        total = None
        for part in self._parts(work):
            if total is None:
                total = part
            else:
                for accumulated, value in zip(total, part, strict=True):
                    accumulated += value
        return total

    def _parts(self, work: Callable[[int, int], list[np.ndarray]]) -> Iterator[list[np.ndarray]]:
        if self._pool is None:
            for start, stop in self.bounds:
                yield work(start, stop)
            return
        # A bounded window of chunks in flight, consumed in order.
        pending, upcoming = deque(), iter(self.bounds)
        for bounds in upcoming:
            pending.append(self._pool.submit(work, *bounds))
            if len(pending) == 2 * self._threads:
                break
        while pending:
            part = pending.popleft().result()
            bounds = next(upcoming, None)
            if bounds is not None:
                pending.append(self._pool.submit(work, *bounds))
            yield part


class _Result:
    """One initialisation's outcome, as sklearn's fit loop keeps it."""

    def __init__(self, parameters, n_iter, lower_bounds, converged):
        self.parameters = parameters
        self.n_iter = n_iter
        self.lower_bounds = lower_bounds
        self.lower_bound = lower_bounds[-1]
        self.converged = converged


def _expectation_maximisation(
    chunks: _RowChunks, estimator: GaussianMixture, lower_bound: float
) -> _Result:
    """sklearn's EM loop from the estimator's current parameters.

    Iteration t: the E-step with the parameters of t - 1 gives the lower bound L_t (the
    mean log-likelihood) and, in the same pass, the M-step's sums; |L_t - L_{t-1}| < tol
    ends the loop after that M-step, which is then computed exactly (two-pass).
    """
    parameters = (estimator.weights_, estimator.means_, None, estimator.precisions_cholesky_)
    lower_bounds = []
    converged = False
    for n_iter in range(1, estimator.max_iter + 1):
        previous = lower_bound
        e_step = _EStep(chunks, *parameters)
        sums = chunks.ordered_sum(lambda start, stop, e_step=e_step: e_step.sums(start, stop))
        lower_bound = np.float64(sums.log_likelihood[0] / chunks.n_samples)
        lower_bounds.append(lower_bound)
        converged = bool(abs(lower_bound - previous) < estimator.tol)
        exact = converged or n_iter == estimator.max_iter
        try:
            parameters = _m_step(chunks, e_step, sums, estimator.reg_covar, exact)
        except ValueError:
            if exact:
                raise
            # Cancellation can cost the one-pass covariance a positive definiteness that
            # sklearn's two-pass one keeps: decide as sklearn would.
            parameters = _m_step(chunks, e_step, sums, estimator.reg_covar, exact=True)
        if converged:
            break
    return _Result(parameters, n_iter, lower_bounds, converged)


class _Sums(list):
    """A pass's sums over rows, added chunk by chunk (see _EStep.sums)."""

    moments = property(lambda self: self[0])
    log_likelihood = property(lambda self: self[1])
    direct_scatter = property(lambda self: self[2])
    direct_first = property(lambda self: self[3])


class _EStep:
    """One iteration's E-step: W (k x F) for every component, the direct form for some.

    For x near mu_k, W[k] . phi(x - c) adds terms as large as |mu_k - c|^T |P_k|
    |mu_k - c| into a log-density of order d: a component tight in some direction and far
    from c would lose about eps times that to cancellation. Beyond CANCELLATION_LIMIT its
    log-density is computed directly from L_k^T (x - mu_k), as sklearn does, and its
    M-step sums are taken around mu_k.
    """

    def __init__(self, chunks: _RowChunks, weights, means, _covariances, precisions_cholesky):
        self.chunks = chunks
        n_components, n_features = means.shape
        centred_means = means - chunks.centre
        precisions = precisions_cholesky @ precisions_cholesky.transpose(0, 2, 1)
        projected = np.einsum("ki,kij->kj", centred_means, precisions_cholesky)  # L_k^T mu_k
        magnitudes = np.abs(centred_means)
        largest_terms = np.einsum("ki,kij,kj->k", magnitudes, np.abs(precisions), magnitudes)
        log_det = np.log(np.diagonal(precisions_cholesky, axis1=1, axis2=2)).sum(axis=1)
        constants = np.log(weights) + log_det - 0.5 * n_features * _LOG_2PI
        rows, columns = chunks.pair_rows, chunks.pair_columns
        self.coefficients = np.empty((n_components, feature_count(n_features)))
        self.coefficients[:, : len(rows)] = precisions[:, rows, columns] * np.where(
            rows == columns, -0.5, -1.0
        )
        self.coefficients[:, len(rows) : -1] = np.einsum(
            "kij,kj->ki", precisions_cholesky, projected
        )
        self.coefficients[:, -1] = constants - 0.5 * np.sum(projected**2, axis=1)
        self.direct = np.flatnonzero(largest_terms > CANCELLATION_LIMIT)
        self.direct_means = means[self.direct]
        self._direct_centred_means = centred_means[self.direct, :, np.newaxis]
        self._direct_cholesky_transposed = precisions_cholesky[self.direct].transpose(0, 2, 1)
        self._direct_constants = constants[self.direct, np.newaxis]

    def __call__(self, centred: np.ndarray, features: np.ndarray):
        """A chunk's responsibilities (k x m), log p(x) (m), and x - mu_k (f x d x m) of
        the f direct components."""
        weighted = self.coefficients @ features
        direct_differences = centred - self._direct_centred_means
        if len(self.direct):
            projected = self._direct_cholesky_transposed @ direct_differences
            np.square(projected, out=projected)
            weighted[self.direct] = self._direct_constants - 0.5 * projected.sum(axis=1)
        top = weighted.max(axis=0)
        weighted -= top
        np.exp(weighted, out=weighted)
        total = weighted.sum(axis=0)
        weighted /= total
        return weighted, np.log(total) + top, direct_differences

    def sums(self, start: int, stop: int) -> _Sums:
        """One chunk's E-step and M-step sums: phi^T R (F x k), sum of log p(x) (1), and
        for the direct components sum r (x - mu)(x - mu)^T (f x d x d), sum r (x - mu) (f x d)."""
        centred, features = self.chunks.features(start, stop)
        responsibilities, log_norm, direct_differences = self(centred, features)
        weighted_differences = direct_differences * responsibilities[self.direct, np.newaxis, :]
        return _Sums(
            [
                _times_transposed(features, responsibilities),
                log_norm.sum(keepdims=True),
                weighted_differences @ direct_differences.transpose(0, 2, 1),
                weighted_differences.sum(axis=2),
            ]
        )

    def scatter(self, means: np.ndarray, start: int, stop: int) -> list[np.ndarray]:
        """One chunk's sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T (k x d x d), as sklearn sums it
        (from the rows themselves, not their centred copies)."""
        centred, features = self.chunks.features(start, stop)
        responsibilities, _, _ = self(centred, features)
        rows = self.chunks.X[start:stop].T
        n_features = self.chunks.n_features
        scatter = np.empty((len(means), n_features, n_features))
        for component, mean in enumerate(means):
            difference = rows - mean[:, np.newaxis]
            np.matmul(
                difference * responsibilities[component], difference.T, out=scatter[component]
            )
        return [scatter]


def _times_transposed(features: np.ndarray, responsibilities: np.ndarray) -> np.ndarray:
    """features @ responsibilities.T (F x k), ordered for BLAS to read phi along its rows
    in memory: 1.7x faster than the other order at k = 6."""
    if features.flags.f_contiguous:
        return (responsibilities @ features.T).T
    return features @ responsibilities.T


def _m_step(chunks: _RowChunks, e_step: _EStep, sums: _Sums, reg_covar: float, exact: bool):
    """(weights, means, covariances, precisions_cholesky) from a pass's sums.

    With sums around a shift b_k (c, or mu_k for direct components): N = sum r + 10 eps,
    s = sum r (x - b), S = sum r (x - b)(x - b)^T, mu = (s + b sum r) / N (sklearn's
    sum r x / N), delta = mu - b and Sigma = (S - delta s^T - s delta^T + sum r delta
    delta^T) / N. exact: Sigma summed again around mu in a second pass, as sklearn does.
    """
    n_components, n_features = len(sums.moments[0]), chunks.n_features
    n_pairs = len(chunks.pair_rows)
    resp_sums = sums.moments[-1]
    totals = resp_sums + 10 * _EPS
    shifts = np.tile(chunks.centre, (n_components, 1))
    shifts[e_step.direct] = e_step.direct_means
    first = sums.moments[n_pairs:-1].T.copy()
    first[e_step.direct] = sums.direct_first
    means = (first + shifts * resp_sums[:, np.newaxis]) / totals[:, np.newaxis]
    if exact:
        [scatter] = chunks.ordered_sum(lambda start, stop: e_step.scatter(means, start, stop))
    else:
        scatter = np.empty((n_components, n_features, n_features))
        scatter[:, chunks.pair_rows, chunks.pair_columns] = sums.moments[:n_pairs].T
        scatter[:, chunks.pair_columns, chunks.pair_rows] = sums.moments[:n_pairs].T
        scatter[e_step.direct] = sums.direct_scatter
        offsets = means - shifts
        cross = offsets[:, :, np.newaxis] * first[:, np.newaxis, :]
        scatter -= cross + cross.transpose(0, 2, 1)
        scatter += resp_sums[:, np.newaxis, np.newaxis] * (
            offsets[:, :, np.newaxis] * offsets[:, np.newaxis, :]
        )
    covariances = scatter / totals[:, np.newaxis, np.newaxis]
    diagonal = np.arange(n_features)
    covariances[:, diagonal, diagonal] += reg_covar
    precisions_cholesky = _compute_precision_cholesky(covariances, "full")
    return totals / totals.sum(), means, covariances, precisions_cholesky


def fit_differences(fitted: GaussianMixture, reference: GaussianMixture, X) -> dict[str, float]:
    """How far one fit is from a reference fit of the same estimator, on data X.

    For weights, means, covariances and precisions: the largest over components of
    max |fitted - reference| / max |reference| within the component (a weight is a
    component's one value), so each component is measured on its own scale. lower_bound:
    |fitted / reference - 1|. differing_assignments counts rows whose most probable
    component differs; near_ties counts rows whose reference top two probabilities are
    within 1e-9 of each other, and differing_beyond_ties the differing rows not near ties.
    """
    relative = {
        name: float(
            max(
                np.max(np.abs(np.subtract(got, want))) / np.max(np.abs(want))
                for got, want in zip(
                    np.atleast_1d(getattr(fitted, attribute)).reshape(fitted.n_components, -1),
                    np.atleast_1d(getattr(reference, attribute)).reshape(
                        reference.n_components, -1
                    ),
                    strict=True,
                )
            )
        )
        for name, attribute in (
            ("weights", "weights_"),
            ("means", "means_"),
            ("covariances", "covariances_"),
            ("precisions", "precisions_"),
        )
    }
    reference_probabilities = reference.predict_proba(X)
    top_two = np.sort(reference_probabilities, axis=1)[:, -2:]
    near_ties = top_two[:, 1] - top_two[:, 0] < 1e-9
    differing = fitted.predict_proba(X).argmax(axis=1) != reference_probabilities.argmax(axis=1)
    return {
        "same_n_iter": fitted.n_iter_ == reference.n_iter_,
        "lower_bound": abs(float(fitted.lower_bound_ / reference.lower_bound_ - 1)),
        **relative,
        "differing_assignments": int(differing.sum()),
        "near_ties": int(near_ties.sum()),
        "differing_beyond_ties": int((differing & ~near_ties).sum()),
    }
