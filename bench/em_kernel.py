"""Benchmark: clustering.em's chunked EM against scikit-learn's own EM, on one core.

For k = 6, 8, 10, 20 full-covariance components (random_state 42, sklearn's defaults
otherwise) on the demo's allvar matrix, all rows, read from a built warehouse. Each round
fits sklearn and then the kernel, both inside threadpool_limits(1); rounds repeat and
medians (min-max) are shown. Both timings include sklearn's own k-means initialisation,
which the kernel reuses; it is also timed alone, so that the kernel's EM rate can be
given: GFLOP/s = the flops of its matrix products (4 n F k per iteration, F = d(d+1)/2
+ d + 1, plus 2 n F k + 2 n d^2 k for the final two-pass M-step) / (kernel - init
seconds). A plain 4000 x 4000 DGEMM on the same core, in the same run, is the machine's
rate. The equality figures are clustering.em.fit_differences (per component,
max |kernel - sklearn| / max |sklearn|; assignments are argmax predict_proba).

Run: python -m bench.em_kernel --warehouse FILE [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from bench.process import format_spread, load_average, spread
from clustering.em import feature_count, fit_differences, fit_gaussian_mixture
from tests.test_em import allvar_matrix

COMPONENTS = (6, 8, 10, 20)
RANDOM_STATE = 42
DGEMM_SIZE = 4000


def seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def dgemm_gflops(repeat: int) -> dict[str, float]:
    a = np.random.default_rng(0).uniform(size=(DGEMM_SIZE, DGEMM_SIZE))
    rates = [2 * DGEMM_SIZE**3 / seconds(lambda: a @ a) / 1e9 for _ in range(repeat)]
    return spread(rates)


def kernel_flops(n_samples: int, n_features: int, n_components: int, n_iter: int) -> float:
    products = 2 * n_samples * feature_count(n_features) * n_components
    return n_iter * 2 * products + products + 2 * n_samples * n_features**2 * n_components


def initialisation_seconds(X: np.ndarray, n_components: int) -> float:
    """sklearn's k-means initialisation alone, as both fits run it."""
    estimator = GaussianMixture(n_components, random_state=RANDOM_STATE)
    return seconds(lambda: estimator._initialize_parameters(X, check_random_state(RANDOM_STATE)))


def bench_components(X: np.ndarray, n_components: int, repeat: int) -> dict[str, Any]:
    sklearn_seconds, kernel_seconds, init_seconds = [], [], []
    for _ in range(repeat):
        reference = GaussianMixture(n_components, random_state=RANDOM_STATE)
        sklearn_seconds.append(seconds(lambda reference=reference: reference.fit(X)))
        fitted = GaussianMixture(n_components, random_state=RANDOM_STATE)
        kernel_seconds.append(seconds(lambda fitted=fitted: fit_gaussian_mixture(X, fitted)))
        init_seconds.append(initialisation_seconds(X, n_components))
    kernel, init = statistics.median(kernel_seconds), statistics.median(init_seconds)
    flops = kernel_flops(*X.shape, n_components, fitted.n_iter_)
    return {
        "k": n_components,
        "n_iter": reference.n_iter_,
        "sklearn_seconds": spread(sklearn_seconds),
        "kernel_seconds": spread(kernel_seconds),
        "speed_up": spread([s / k for s, k in zip(sklearn_seconds, kernel_seconds, strict=True)]),
        "init_seconds": init,
        "kernel_em_gflops": flops / (kernel - init) / 1e9,
        **fit_differences(fitted, reference, X),
    }


def run(warehouse: Path | str, repeat: int = 3) -> dict[str, Any]:
    """Time and compare both fits for every k; prints the table and returns the figures."""
    X = allvar_matrix(Path(warehouse))
    load_before = load_average()[0]
    with threadpool_limits(limits=1):
        dgemm = dgemm_gflops(repeat)
        rows = [bench_components(X, k, repeat) for k in COMPONENTS]
    figures = {
        "n_samples": X.shape[0],
        "n_features": X.shape[1],
        "repeat": repeat,
        "load_average": [load_before, load_average()[0]],
        "dgemm_gflops": dgemm,
        "components": rows,
    }
    print_table(figures)
    return figures


def print_table(figures: dict[str, Any]) -> None:
    before, after = figures["load_average"]
    print(
        f"EM, full covariance, one core: {figures['n_samples']} x {figures['n_features']} "
        f"demo allvar, medians (min-max) of {figures['repeat']} rounds, load average "
        f"{before:.2f} -> {after:.2f}; DGEMM {DGEMM_SIZE}^3: "
        f"{format_spread(figures['dgemm_gflops'], '.1f')} GFLOP/s"
    )
    print(
        f"{'k':>3} {'iter':>4}  {'sklearn s':<19} {'kernel s':<17} {'speed-up':<15} "
        f"{'init s':>6} {'GFLOP/s':>7}  {'lb':>7} {'weights':>7} {'means':>7} {'precis.':>7}"
        f"  assign (ties)"
    )
    for row in figures["components"]:
        same = "" if row["same_n_iter"] else "!"
        print(
            f"{row['k']:>3} {row['n_iter']:>3}{same:1}  "
            f"{format_spread(row['sklearn_seconds'], '.2f'):<19} "
            f"{format_spread(row['kernel_seconds'], '.2f'):<17} "
            f"{format_spread(row['speed_up'], '.1f'):<15} "
            f"{row['init_seconds']:>6.2f} {row['kernel_em_gflops']:>7.1f}  "
            f"{row['lower_bound']:>7.0e} {row['weights']:>7.0e} {row['means']:>7.0e} "
            f"{row['precisions']:>7.0e}  {row['differing_assignments']} ({row['near_ties']})"
        )
    print(
        "iter: sklearn's n_iter_ (! where the kernel's differs); init: sklearn's k-means "
        "initialisation, in both timings; GFLOP/s: the kernel's matrix products over its "
        "EM time (kernel - init); lb, weights, means, precisions: relative differences "
        "(fit_differences); assign: detections whose most probable component differs "
        "(near-ties within 1e-9)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="a built warehouse")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    arguments = parser.parse_args(argv)
    run(arguments.warehouse, arguments.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
