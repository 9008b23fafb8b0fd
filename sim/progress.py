"""Progress of many runs on stderr: a tqdm bar (rate, ETA) on a terminal, else a plain line every 10 s.

Shared by `factoryshift sweep` and `factoryshift compare`; tqdm is imported only when a bar is drawn.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """Counts finished runs (`update`) and shows them; `enabled=False` shows nothing."""

    def __init__(self, total: int, label: str, enabled: bool = True, every: float = 10.0):
        self.total, self.label, self.enabled, self.every = total, label, enabled, every
        self.done = self.failed = 0
        self.t0 = self.last = time.monotonic()
        self.bar = None
        if enabled and total and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit="run", file=sys.stderr, smoothing=0.1)

    def update(self, ok: bool = True, n: int = 1) -> None:
        self.done += n
        self.failed += 0 if ok else n
        if self.bar is not None:
            self.bar.update(n)
            if not ok:
                self.bar.set_postfix(failed=self.failed)
        elif self.enabled and (time.monotonic() - self.last >= self.every or self.done == self.total):
            self.last = time.monotonic()
            rate = self.done / max(self.last - self.t0, 1e-9)
            eta = (self.total - self.done) / rate if rate else float("inf")
            print(f"{self.label}: {self.done}/{self.total} runs, {self.failed} failed, {rate:.1f} runs/s, "
                  f"ETA {eta:.0f} s", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
