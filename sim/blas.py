"""One BLAS thread while the model computes.

The model's matrix products are small (firms × 11 markets times a vector at most), so BLAS
threads never speed them up; OpenBLAS's idle threads spin for a while after each call and,
on a machine whose other core is busy, take the core the model runs on (measured on the
2-core machine of docs/performance.md with another job running: 100,000-firm steps twice
as long, set-up 2× as long). Sweeps and comparisons also run their worker processes with
one BLAS thread, so that the threads do not compete with the workers for the cores.
"""

from __future__ import annotations

import contextlib

_CONTROLLER = None   # a threadpoolctl.ThreadpoolController, made on first use


@contextlib.contextmanager
def single_threaded_blas():
    """Run with one BLAS thread (restored afterwards). Results do not depend on it: each BLAS call's
    arithmetic is the same whatever the number of threads sharing its rows."""
    global _CONTROLLER
    if _CONTROLLER is None:  # finding the loaded BLAS libraries costs milliseconds: once per process
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    with _CONTROLLER.limit(limits=1, user_api="blas"):
        yield
