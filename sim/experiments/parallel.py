"""Running many model runs at once: the local process pool (one BLAS thread each: `sim.blas`).

`factoryshift compare` and `factoryshift sweep` both use these, so replicates and sweep
runs are executed the same way.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import signal
import sys
import warnings

#: Worker start method: "fork" on Linux (no re-import, so start-up costs milliseconds, and
#: scripts need no ``__main__`` guard); "spawn" elsewhere.
START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"


class _Pool(cf.ProcessPoolExecutor):
    """A process pool whose workers start (fork) without Python 3.12's threads warning.

    Python warns on fork() whenever the process has other OS threads (here the idle BLAS
    pool). The workers run only numpy code of ours and exit with the pool. Workers are
    started lazily by `submit` (which `map` calls), so that is where the warning is muted.
    """

    def submit(self, fn, /, *args, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks",
                                    category=DeprecationWarning)
            return super().submit(fn, *args, **kwargs)


def die_with_parent(parent: int | None = None) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; elsewhere nothing).

    A coordinator killed alone (kill -9, the OOM killer) would otherwise leave its workers
    computing runs nobody collects. If the parent died before the request took effect,
    exit now. `parent`: the pid the parent had when it started this process.
    """
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid() if parent is None else parent
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
        return
    if os.getppid() != parent:
        os._exit(1)


def _worker_init(coordinator: int) -> None:
    """Workers leave Ctrl-C to the coordinator (which prints one line and stops the pool), die
    with it, and keep numpy's floating-point warnings to themselves (`sim.model.health` checks
    every step for non-finite values instead)."""
    import numpy as np

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(coordinator)
    np.seterr(all="ignore")


def process_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A pool of `workers` local processes."""
    return _Pool(max_workers=workers, mp_context=mp.get_context(START_METHOD), initializer=_worker_init,
                 initargs=(os.getpid(),))
