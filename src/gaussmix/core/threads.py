"""Native thread pools: how many threads this process may use, and BLAS held at one thread while ours run.

Shared by the local executor (row blocks on threads) and the high-dimension M-step (one factorisation per thread).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

R = TypeVar("R")


def usable_cores() -> int:
    """The cores this process may run on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores)


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """BLAS limited to one thread while our own threads run kernels in parallel (threadpoolctl; a no-op without).

    Nothing to do when every BLAS is at one thread already (a fit's passes run inside its own limit): asking is
    a microsecond, threadpoolctl's ``limit`` reads every library's full info (35 µs, a tenth of a pass over 272
    rows).
    """
    controller = blas_controller()
    if controller is None or all(lib.num_threads == 1 for lib in controller.lib_controllers):
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")


@functools.cache
def blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries, found once: a fresh scan costs milliseconds per pass."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController().select(user_api="blas")


def map_on_cores(function: Callable[[int], R], count: int) -> list[R]:
    """``[function(i) for i in range(count)]`` on up to ``usable_cores()`` threads, BLAS at one thread each: for
    kernels that release the GIL (NumPy's large array operations, LAPACK through ``lapack``)."""
    n_threads = min(count, usable_cores())
    if n_threads <= 1:
        return [function(i) for i in range(count)]
    with single_threaded_blas(), ThreadPoolExecutor(n_threads) as pool:
        return list(pool.map(function, range(count)))
