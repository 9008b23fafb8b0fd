"""Writing results: every results folder is a transaction, files are plain JSON.

A command that writes a results folder (`run`, `compare`, `hindcast`, the analysis of a
sweep) builds it in a hidden sibling folder and swaps it in whole (`results_folder`), so a
reader of ``results/baseline/`` sees either the whole old result or the whole new one,
never a mix, and a kill, a full disk or a second writer can at worst leave a hidden stage
behind, which the next writer removes. Folders remember the command that wrote them
(``manifest.json``: ``"command"``); one command never silently replaces another's folder.

Locks are POSIX record locks (`fcntl.lockf`): the kernel drops them when the process that
took them dies, and a fork()ed child (a process-pool worker) does not inherit them, so
orphaned workers can never keep a folder locked after their coordinator was killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sim.errors import UserError

#: Bytes a stage or lock name adds to the folder's name (".NAME.stage-<random>", ".NAME.lock").
NAME_ROOM = 24
#: Seconds a writer waits for another writer of the same folder before giving up (tests shorten it).
LOCK_WAIT_ENV = "FACTORYSHIFT_LOCK_WAIT"
#: Testing aid: stop (sleep) at a named point of a transaction so a test can kill the process there.
HOLD_ENV = "FACTORYSHIFT_TEST_HOLD"
#: Testing aid: behave as on a file system without renameat2(RENAME_EXCHANGE).
NO_EXCHANGE_ENV = "FACTORYSHIFT_TEST_NO_EXCHANGE"
#: errno values of a write that failed because of the disk or the folder, not of a bug.
STORAGE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM,
                            errno.EIO, errno.ENAMETOOLONG, errno.EXDEV})
SWEEP_FORMAT = "factoryshift-sweep/1"
FORCE_HELP = "replace --out even if another command (a sweep, a compare, ...) wrote it"


# ---------------------------------------------------------------------------------- checks
def name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def check_path_length(path: str | Path, option: str) -> None:
    """A name the file system cannot hold, reported before any work (not an ENAMETOOLONG later)."""
    path = Path(path)
    existing = next((p for p in Path(os.path.abspath(path)).parents if _is_dir(p)), Path("/"))
    limit = name_max(existing) - NAME_ROOM
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > limit:
            raise UserError(f"{option}: {path}: the name '{part[:24]}…' is too long ({size} bytes; at most "
                            f"{limit} here)")
    size = len(os.fsencode(os.path.abspath(path)))
    if size > 4096 - 2 * NAME_ROOM:
        raise UserError(f"{option}: {path}: the path is too long ({size} bytes)")


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:   # a name too long to look up is no folder
        return False


def ensure_out_dir(path: str | Path, option: str = "--out") -> Path:
    """Create a folder that is written in place (a sweep's) or say in one line why it cannot be used."""
    out = Path(path)
    check_path_length(out, option)
    if out.exists() and not out.is_dir():
        raise UserError(f"{option}: {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option}: {out}: cannot create the folder: {exc.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"{option}: {out}: the folder is not writable")
    return out


def read_json(path: Path) -> dict | None:
    """A JSON object from `path`, or None if it is missing, unreadable or not an object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def folder_kind(folder: Path) -> str | None:
    """The command that wrote results folder `folder` ("run", "compare", "sweep", ...).

    None: no folder, or an empty one. "damaged": manifest.json exists but cannot be read.
    "other": files, but no manifest of ours.
    """
    try:
        entries = [e for e in os.listdir(folder) if not e.startswith(".tmp-")]
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not [e for e in entries if e != ".lock"]:
        return None
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        return "discover" if "discovery.md" in entries else "other"   # discover wrote no manifest at first
    manifest = read_json(manifest_path)
    if manifest is None:
        return "damaged"
    if manifest.get("format") == SWEEP_FORMAT:
        return "sweep"
    if isinstance(manifest.get("command"), str):
        return manifest["command"]
    if "parameters" in manifest and "scenario" in manifest:     # written by `run` before "command" existed
        return "run"
    if "test_years" in manifest:                                 # `hindcast`, likewise
        return "hindcast"
    return "other"


def check_target(out: str | Path, command: str, force: bool = False, option: str = "--out") -> Path:
    """Why `out` cannot become `command`'s results folder, as a one-line `UserError`; else `out`.

    Called before any work (so a bad folder fails in a second) and again under the lock.
    """
    out = Path(out)
    check_path_length(out, option)
    if out.exists() and not out.is_dir():
        raise UserError(f"{option}: {out}: exists and is not a folder")
    real, cwd = Path(os.path.realpath(out)), Path.cwd().resolve()
    if real == cwd or real in cwd.parents or real.parent == real:
        raise UserError(f"{option}: {out}: is the current folder, one of its parents or the root; "
                        f"name a folder for the results")
    kind = folder_kind(out)
    if kind not in (None, command):
        if kind == "other":
            raise UserError(f"{option}: {out}: holds files that are not FactoryShift results (no manifest.json); "
                            f"choose another {option}")
        if not force:
            what = "an unreadable manifest.json" if kind == "damaged" else f"results of `factoryshift {kind}`"
            raise UserError(f"{option}: {out}: holds {what}; choose another {option}, or add --force to "
                            f"replace them")
    probe_writable(out, option, "the folder")
    return out


def probe_writable(out: Path, option: str, what: str) -> None:
    """Create (and drop) a file where `out` will go: a read-only or pseudo file system fails now,
    before the work, not when the results are written."""
    parent = next((p for p in out.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir():
        raise UserError(f"{option}: {out}: cannot create {what} in {parent} (not a folder)")
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise UserError(f"{option}: {out}: cannot create {what} in {parent}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------------------------- locks
_HELD: set[str] = set()   # lock files this process holds (POSIX locks do not exclude the same process)


@contextlib.contextmanager
def locked(path: str | Path, what: str, wait: float = 0.0) -> Iterator[None]:
    """Hold an exclusive lock on file `path`; after `wait` seconds, a one-line `UserError` naming `what`.

    A POSIX record lock: dropped by the kernel when this process dies, not inherited by
    fork()ed children, so no orphan can hold it. The file is left in place (empty).
    """
    import fcntl

    key = os.path.realpath(path)
    deadline = time.monotonic() + wait
    while key in _HELD:   # opening and closing a second descriptor would drop our own lock
        if time.monotonic() >= deadline:
            raise UserError(f"{what}: another command in this process is writing to it")
        time.sleep(0.05)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise UserError(f"{what}: cannot create the lock file {path}: {exc.strerror or exc}") from None
    try:
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EAGAIN):
                    raise
                if time.monotonic() >= deadline:
                    raise UserError(f"{what}: another factoryshift process is writing to it (lock {path}); "
                                    f"run again when it has finished") from None
                time.sleep(0.05)
        _HELD.add(key)
        try:
            yield
        finally:
            _HELD.discard(key)
    finally:
        os.close(fd)


def lock_wait(wait: float | None = None) -> float:
    if wait is not None:
        return wait
    try:
        return float(os.environ.get(LOCK_WAIT_ENV, 120.0))
    except ValueError:
        raise UserError(f"{LOCK_WAIT_ENV}: must be a number of seconds, got {os.environ[LOCK_WAIT_ENV]!r}") from None


# ---------------------------------------------------------------------------------- the transaction
def hold(point: str) -> None:
    """Testing aid (`HOLD_ENV`): stop here, so that a test can kill this process at `point`."""
    if os.environ.get(HOLD_ENV) == point:
        print(f"holding at {point}", file=sys.stderr, flush=True)
        time.sleep(3600)


def fsync_tree(folder: Path) -> None:
    """Data on disk before the rename that publishes it (a power loss then leaves old or new, whole)."""
    for root, _, files in os.walk(folder):
        for name in files:
            fsync_file(os.path.join(root, name))
        fsync_dir(root)


def fsync_file(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: str | Path) -> None:
    with contextlib.suppress(OSError):   # some file systems cannot sync a folder; nothing to do then
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically (Linux renameat2 RENAME_EXCHANGE); False where that is unavailable."""
    if os.environ.get(NO_EXCHANGE_ENV) or not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _siblings(parent: Path, name: str, kind: str) -> list[Path]:
    prefix = f".{name}.{kind}-"
    try:
        return sorted(parent / e for e in os.listdir(parent) if e.startswith(prefix))
    except FileNotFoundError:
        return []


def recover(target: Path) -> None:
    """Finish what a killed writer of `target` left (call under the lock).

    A kill between the two renames of the fallback swap leaves no `target` but its old
    version aside: that is put back. Stages and old versions are then deleted: under the
    lock, no living writer owns one.
    """
    parent, name = target.parent, target.name
    asides = _siblings(parent, name, "old")
    if asides and not target.exists():
        os.rename(asides.pop(0), target)
    for stale in [*_siblings(parent, name, "stage"), *asides]:
        shutil.rmtree(stale, ignore_errors=True)


def carry_over(old: Path, stage: Path, command: str, outputs: tuple[str, ...] = ()) -> None:
    """Entries of the old folder that are not results (the user's own notes) go into the new one.

    Results are what the old manifest lists and any name the command writes (`outputs`): a
    plot left by an earlier run must not survive next to a newer run's data. Only from a folder
    of the same command: a folder replaced with --force is another command's whole. Hard links
    where possible: the old folder stays whole until the swap.
    """
    if folder_kind(old) != command:
        return
    manifest = read_json(old / "manifest.json") or {}
    written = set(manifest.get("files") or []) | {"manifest.json", *outputs}
    for entry in os.listdir(old):
        if entry in written or entry.startswith(".tmp-") or (stage / entry).exists():
            continue
        src, dst = old / entry, stage / entry
        if src.is_dir() and not src.is_symlink():
            shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(src, dst)


def _link_or_copy(src, dst) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def publish(stage: Path, target: Path) -> Path | None:
    """Put folder `stage` at `target` in one step; returns where the old version went (to delete)."""
    if not target.exists():
        os.rename(stage, target)
        return None
    if exchange(stage, target):
        return stage
    aside = target.parent / f".{target.name}.old-{os.getpid()}"
    os.rename(target, aside)
    hold("aside")
    os.rename(stage, target)
    return aside


def storage_error(exc: OSError, option: str, out: Path) -> UserError:
    return UserError(f"{option}: {out}: cannot write the results ({exc.strerror or exc}); nothing was changed")


@contextlib.contextmanager
def results_folder(out: str | Path, command: str, *, outputs: tuple[str, ...] = (), force: bool = False,
                   option: str = "--out", wait: float | None = None) -> Iterator[Path]:
    """Yield an empty hidden folder to write `command`'s results into; on success it replaces `out` whole.

    Under a lock (``.NAME.lock`` next to `out`): a second writer of the same folder waits
    for the first, and each publishes a whole result. A folder another command wrote is
    refused (`check_target`) unless `force`. `outputs`: every file name `command` may write
    (what is not one of them, the user's notes, stays). On a storage error (full disk) `out` is left
    as it was and a one-line `UserError` says why.
    """
    target = Path(os.path.abspath(out))
    check_target(out, command, force, option)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option}: {out}: cannot create the folder: {exc.strerror}") from None
    with locked(target.parent / f".{target.name}.lock", f"{option}: {out}", lock_wait(wait)):
        recover(target)
        check_target(out, command, force, option)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.stage-", dir=target.parent))
        old = None
        try:
            yield stage
            carry_over(target, stage, command, outputs)
            fsync_tree(stage)
            hold("staged")
            old = publish(stage, target)
            fsync_dir(target.parent)
            hold("published")
        except OSError as exc:
            if exc.errno in STORAGE_ERRORS:
                raise storage_error(exc, option, Path(out)) from None
            raise
        finally:
            shutil.rmtree(old or stage, ignore_errors=True)


def check_file_target(out: str | Path, *, option: str, ours: Callable[[Path], bool], what: str,
                      force: bool = False) -> Path:
    """Why file `out` cannot be (re)written, as a one-line `UserError`; else `out`."""
    out = Path(out)
    check_path_length(out, option)
    if out.is_dir():
        raise UserError(f"{option}: {out}: is a folder; give a file name")
    if out.exists() and not force and not ours(out):
        raise UserError(f"{option}: {out}: exists and is not {what}; choose another {option}, or add --force "
                        f"to replace it")
    probe_writable(out, option, "the file")
    return out


@contextlib.contextmanager
def results_file(out: str | Path, *, option: str, ours: Callable[[Path], bool], what: str,
                 force: bool = False) -> Iterator[Path]:
    """Yield a hidden temporary path next to `out`; on success it replaces `out` in one rename.

    An existing `out` that `ours(out)` does not recognise is refused unless `force`.
    """
    out = check_file_target(out, option=option, ours=ours, what=what, force=force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option}: {out}: cannot create its folder: {exc.strerror}") from None
    with locked(out.parent / f".{out.name}.lock", f"{option}: {out}", lock_wait()):
        for stale in _siblings(out.parent, out.name, "stage"):
            stale.unlink(missing_ok=True)
        tmp = out.parent / f".{out.name}.stage-{os.getpid()}"
        try:
            yield tmp
            fsync_file(tmp)
            os.replace(tmp, out)
            fsync_dir(out.parent)
        except OSError as exc:
            if exc.errno in STORAGE_ERRORS:
                raise storage_error(exc, option, out) from None
            raise
        finally:
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_outputs(folder: str | Path, outputs: tuple[str, ...], *, option: str,
                   wait: float | None = None) -> Iterator[Path]:
    """Derived outputs written beside a folder's data (the analysis of a sweep), without a torn file.

    Yields a hidden view of `folder`: links to every entry but `outputs`. What the caller
    creates there replaces its namesake in `folder` on success, each entry in one atomic
    step (folders swapped whole, then files), under a lock against a second writer.
    """
    folder = Path(folder)
    with locked(folder / ".outputs.lock", f"{option}: {folder}", lock_wait(wait)):
        for name in outputs:
            recover(folder / name)
        for stale in _siblings(folder, "view", "stage"):
            shutil.rmtree(stale, ignore_errors=True)
        view = Path(tempfile.mkdtemp(prefix=".view.stage-", dir=folder))
        old: list[Path] = []
        try:
            for entry in os.listdir(folder):
                if not entry.startswith(".") and entry not in outputs:
                    os.symlink(os.path.join("..", entry), view / entry)
            yield view
            made = [view / e for e in sorted(os.listdir(view)) if not (view / e).is_symlink()]
            for path in made:
                fsync_tree(path) if path.is_dir() else fsync_file(path)
            hold("staged")
            for path in sorted(made, key=lambda p: not p.is_dir()):   # folders first: files link to them
                if path.is_dir():
                    aside = publish(path, folder / path.name)
                    if aside is not None:
                        old.append(aside)
                else:
                    os.replace(path, folder / path.name)
            fsync_dir(folder)
        except OSError as exc:
            if exc.errno in STORAGE_ERRORS:
                raise UserError(f"{option}: {folder}: cannot write ({exc.strerror or exc}); the earlier "
                                f"outputs are unchanged") from None
            raise
        finally:
            for path in [view, *old]:
                shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------------------- JSON
def json_safe(value):
    """Plain JSON: non-finite floats as strings ("inf"), numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    np = sys.modules.get("numpy")   # a numpy scalar exists only if numpy is imported; do not import it here
    if np is not None and isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def to_json(value) -> str:
    return json.dumps(json_safe(value), indent=2, allow_nan=False) + "\n"
