"""Executors: map run items to results, serially or on a local process pool.

An executor only maps work to results -- it knows nothing of sweeps, grids or the run store
(the driver writes every result into the store as it arrives) -- so a distributed executor
(Ray) plugs in beside these without touching the sweep. The interface::

    executor.map(task, items) -> iterator of (index, result or None, error or None)

``task`` is a module-level function taking and returning plain (picklable) data; results come
back as they finish, in any order. An exception inside a task is returned as its ``error``
(the sweep records it as a failed run); a crashed worker process too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

__all__ = ["Executor", "SerialExecutor", "LocalExecutor", "get_executor", "EXECUTORS"]

Task = Callable[[Any], Any]
Outcome = tuple[int, Any, BaseException | None]


class Executor(Protocol):
    """Maps ``task`` over ``items``; yields ``(index, result, error)`` as each finishes."""

    name: str
    workers: int

    def map(self, task: Task, items: Sequence[Any]) -> Iterator[Outcome]:  # pragma: no cover
        ...


class SerialExecutor:
    """One item after the other, in this process (the reference every executor must match)."""

    name = "serial"
    workers = 1

    def map(self, task: Task, items: Sequence[Any]) -> Iterator[Outcome]:
        for i, item in enumerate(items):
            try:
                result = task(item)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as err:  # noqa: BLE001 - returned, recorded as a failed run
                yield i, None, err
            else:
                yield i, result, None


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _init_worker(threads: int) -> None:
    """Limit each worker's BLAS/OpenMP/torch threads so workers do not oversubscribe cores,
    and (on Linux) end the worker when the driver dies: a killed sweep leaves no orphan
    training on in the background."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ["FAIRSUITE_WORKER_THREADS"] = str(threads)
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        except OSError:  # pragma: no cover - no libc: the worker ends when its task does
            pass


class LocalExecutor:
    """A pool of ``jobs`` worker processes on this machine (spawned: no state is inherited).

    Each worker gets ``cores // jobs`` threads (at least 1) for BLAS, OpenMP and torch. Ctrl-C
    cancels the items not yet started and stops the pool; results already returned were
    handed to the caller (and, in a sweep, written to the run store) as they arrived.
    """

    name = "local"

    def __init__(self, jobs: int | None = None) -> None:
        cpus = _available_cpus()
        self.workers = max(1, min(jobs or cpus, cpus * 4))
        self.threads = max(1, cpus // self.workers)

    def map(self, task: Task, items: Sequence[Any]) -> Iterator[Outcome]:
        import multiprocessing as mp
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        if not items:
            return
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(items)),
            mp_context=mp.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.threads,),
        )
        futures = {pool.submit(task, item): i for i, item in enumerate(items)}
        try:
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    i = futures[fut]
                    try:
                        yield i, fut.result(), None
                    except BrokenProcessPool as err:
                        yield i, None, RuntimeError(f"worker process died: {err}")
                    except Exception as err:  # noqa: BLE001 - recorded as a failed run
                        yield i, None, err
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def apply_worker_threads() -> None:
    """Inside a task: give torch the thread count the executor chose for this worker
    (``$FAIRSUITE_WORKER_THREADS``, set by the local and Ray executors; unset: leave torch's)."""
    threads = os.environ.get("FAIRSUITE_WORKER_THREADS")
    if threads:
        try:
            import torch

            torch.set_num_threads(int(threads))
        except ImportError:  # pragma: no cover - torch is a core dependency
            pass


#: Executor names the CLI and specs accept (``ray`` needs the Ray extra, ``fairsuite[ray]``).
EXECUTORS = ("serial", "local", "ray")


def get_executor(name: str, *, jobs: int | None = None, **options: Any) -> Executor:
    """The executor called ``name`` (``serial``, ``local`` or ``ray``); ``options`` go to the
    Ray executor (``address``, ``num_cpus``, ``num_gpus``, ``memory``, ``max_retries``: see
    :class:`fairsuite.experiments._ray.RayExecutor`)."""
    from fairsuite.exceptions import SpecError

    if name == "serial":
        return SerialExecutor()
    if name == "local":
        return LocalExecutor(jobs)
    if name == "ray":
        from fairsuite.experiments._ray import RayExecutor

        return RayExecutor(jobs, **options)
    raise SpecError(f"unknown executor {name!r}; allowed: {', '.join(EXECUTORS)}")
