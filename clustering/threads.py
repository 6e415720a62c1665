"""One thread discipline for a whole process that fits mixtures.

Fits run side by side, one per core, each with one BLAS (and OpenMP) thread: many small
(features x features) products parallelise better across fits than within one, and a
fit's floating-point result then does not depend on the machine's core count. The limit
is set once for the process and never restored: a limit held by a context manager is
process-wide, so when one model's block exits it would give every other thread's fits
the machine's full thread count again while they still run (a race seen in dbt, whose
threads run two Python models at once).

OpenMP (sklearn's k-means initialisation) keeps its thread count per thread: a thread
started later gets the count from when the runtime loaded, whatever was set since. So
every thread that fits holds itself to one thread as it starts (`hold_thread_to_one`,
the scheduler's worker initializer).
"""

from __future__ import annotations

import os
import threading

from threadpoolctl import threadpool_info, threadpool_limits

# Read by OpenBLAS (numpy's and scipy's copies) and the OpenMP runtime when they load.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

_lock = threading.Lock()
_limited = False


def use_one_blas_thread() -> None:
    """Hold BLAS and OpenMP to one thread for the rest of the process (idempotent).

    Libraries already loaded are limited now; those loaded later read the variables.
    """
    global _limited
    with _lock:
        if not _limited:
            os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))
            threadpool_limits(limits=1)
            _limited = True


def hold_thread_to_one() -> None:
    """Hold BLAS and OpenMP to one thread in the calling thread (and the process)."""
    use_one_blas_thread()
    threadpool_limits(limits=1)


def blas_threads() -> int:
    """The largest thread count any loaded BLAS or OpenMP library would use now, in the
    calling thread."""
    return max((pool["num_threads"] for pool in threadpool_info()), default=1)
