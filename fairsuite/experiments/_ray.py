"""The Ray executor: every sweep run a plain Ray task, on this machine or on a cluster.

Each item becomes one ``ray.remote`` task with a per-run resource request (``num_cpus``,
default 1; ``num_gpus``, default 0, fractions allowed to pack several runs on one GPU;
``memory``, optional, in bytes). Results are consumed with ``ray.wait`` as tasks finish and
handed back at once, so the sweep driver writes each into its run store immediately: Ctrl-C
or a dead driver loses nothing that finished, and pending tasks are cancelled on interrupt.

Failures come in two kinds, treated differently:

- a *system* failure (the worker process or its node died) is retried by Ray, up to
  ``max_retries`` times (default 3); a run still lost after that is returned as an error;
- an *application* error (an exception raised by the run itself: a bad composition, a data
  error) is caught inside the task and returned as the run's error -- recorded as a failed run
  by the sweep, never retried (``retry_exceptions=False``): running it again gives the same
  error.

Why plain tasks and not Ray Tune: a sweep's grid, its resume logic and its results already live
in fairsuite's run store (keyed by each run spec's hash, written by the driver). Tune would
bring a second experiment store with its own trial names, checkpoints and resume state that
would have to be kept in step with ours, and its search algorithms and schedulers (early
stopping) do not apply to a fixed grid whose every point must finish. Plain tasks keep the run
store the one source of truth: a sweep can start on a laptop (serial or local executor),
continue on a cluster and finish on the laptop again.

Ray is the optional extra ``fairsuite[ray]``; it is imported only when this executor is asked
for. ``ray.init()`` starts a local instance by default (``num_cpus`` = ``jobs`` when given), and
the ``address`` option or ``$RAY_ADDRESS`` connects to an existing cluster instead. An instance
this executor started is shut down when the map ends; one it only connected to is left alone.

A driver that is killed (SIGKILL, the OOM killer) cannot shut its instance down. Ray's own
fate-sharing ends the GCS, the raylet and with it the workers at once, but its two agents (the
dashboard and runtime-env agents) are left orphaned for about a minute: they notice the dead
raylet, then wait 60 s trying to tell the dead GCS so. On Linux the executor therefore starts a
small reaper beside its instance: every process of the instance carries a tag in its
environment, and when the driver's end of a pipe closes -- however the driver ended -- the reaper
ends (SIGTERM, then SIGKILL) whatever still carries the tag.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fairsuite.exceptions import MissingDependencyError, SpecError

__all__ = ["RayExecutor", "RAY_MISSING", "require_ray"]

RAY_MISSING = (
    "--executor ray needs Ray, which is not installed; install the extra with "
    "pip install 'fairsuite[ray]' (or use --executor local)."
)

Outcome = tuple[int, Any, BaseException | None]


def require_ray() -> Any:
    """Import and return ``ray``; :class:`MissingDependencyError` (exit 2) with the install hint
    when it is not installed."""
    try:
        import ray
    except ImportError as err:
        detail = "" if getattr(err, "name", None) == "ray" else f" ({err})"
        raise MissingDependencyError(RAY_MISSING + detail) from err
    return ray


def _run_task(task: Callable[[Any], Any], item: Any, threads: int) -> tuple[Any, Any]:
    """Runs inside a Ray worker: ``(result, None)``, or ``(None, error)`` for an application
    error (so Ray never sees it as a task failure and never retries it)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ["FAIRSUITE_WORKER_THREADS"] = str(threads)
    try:
        return task(item), None
    except Exception as err:  # noqa: BLE001 - returned, recorded as a failed run
        try:
            import cloudpickle

            cloudpickle.dumps(err)
        except Exception:  # noqa: BLE001 - an error that cannot travel: send its text
            err = RuntimeError(f"{type(err).__name__}: {err}")
        return None, err


#: Environment variable that tags every process of a Ray instance this executor started.
_TAG_VAR = "FAIRSUITE_RAY_INSTANCE"

#: The reaper: waits for EOF on stdin (the driver ended, cleanly or killed), then ends every
#: process whose environment holds ``FAIRSUITE_RAY_INSTANCE=<tag>`` (argv[1]).
_REAPER = r"""
import os, signal, sys, time
entry = b"FAIRSUITE_RAY_INSTANCE=" + sys.argv[1].encode()
sys.stdin.buffer.read()

def tagged():
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                with open("/proc/" + name + "/environ", "rb") as f:
                    if entry in f.read().split(b"\0"):
                        found.append(int(name))
            except OSError:
                pass
    return found

for sig in (signal.SIGTERM, signal.SIGKILL):
    for pid in tagged():
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    deadline = time.monotonic() + 3
    while tagged() and time.monotonic() < deadline:
        time.sleep(0.1)
"""


def _start_reaper(tag: str) -> subprocess.Popen[bytes] | None:
    """The reaper of the instance tagged ``tag`` (Linux only: it reads ``/proc``); it runs in
    its own session so that a signal to the driver's process group does not end it first."""
    if not sys.platform.startswith("linux"):
        return None
    env = {k: v for k, v in os.environ.items() if k != _TAG_VAR}
    try:
        return subprocess.Popen(
            [sys.executable, "-c", _REAPER, tag],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    except OSError:  # pragma: no cover - no reaper: Ray's fate-sharing alone
        return None


def _stop_reaper(reaper: subprocess.Popen[bytes] | None) -> None:
    """Close the reaper's pipe (it ends what is left of the instance) and collect it."""
    if reaper is None:
        return
    if reaper.stdin is not None:
        with contextlib.suppress(OSError):
            reaper.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        reaper.wait(timeout=10)


def _positive(name: str, value: Any, *, allow_zero: bool = False) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number < 0 or (number == 0 and not allow_zero) or isinstance(value, bool):
        least = ">= 0" if allow_zero else "> 0"
        raise SpecError(f"ray executor: {name} must be a number {least}; got {value!r}.")
    return number


class RayExecutor:
    """Runs each item as a Ray task; yields ``(index, result, error)`` as tasks finish.

    Parameters
    ----------
    jobs : int, optional
        CPUs of a local Ray instance started here (default: every core); ignored on a cluster.
    address : str, optional
        A Ray cluster (``ray://host:10001``, ``host:6379`` or ``auto``); default
        ``$RAY_ADDRESS``, else a local instance.
    num_cpus : float, default 1
        CPUs each run asks for (also its BLAS/torch thread count).
    num_gpus : float, default 0
        GPUs each run asks for; a fraction (0.25) packs several runs on one GPU.
    memory : int, optional
        Bytes of memory each run asks for (Ray schedules by it; it is not a hard limit).
    max_retries : int, default 3
        Retries of a run whose worker or node died. Application errors are never retried.
    """

    name = "ray"

    def __init__(
        self,
        jobs: int | None = None,
        *,
        address: str | None = None,
        num_cpus: float | None = None,
        num_gpus: float | None = None,
        memory: int | float | None = None,
        max_retries: int = 3,
        object_store_memory: int | None = None,
    ) -> None:
        self.ray = require_ray()
        self.jobs = jobs
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.num_cpus = _positive("num_cpus (--cpus-per-run)", num_cpus) or 1.0
        self.num_gpus = _positive("num_gpus (--gpus-per-run)", num_gpus, allow_zero=True) or 0.0
        mem = _positive("memory", memory)
        self.memory = None if mem is None else int(mem)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise SpecError(
                f"ray executor: max_retries must be an integer >= 0; got {max_retries!r}."
            )
        self.max_retries = max_retries
        self.object_store_memory = object_store_memory
        self.workers = int(jobs) if jobs else max(1, os.cpu_count() or 1)
        self._reaper: subprocess.Popen[bytes] | None = None

    def _connect(self) -> bool:
        """Connect to (or start) Ray; ``True`` when this call started the instance."""
        ray = self.ray
        if ray.is_initialized():
            return False
        # quiet and light: no usage report, no dashboard, worker logs stay in the session folder
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
        common: dict[str, Any] = {
            "log_to_driver": False,
            "logging_level": logging.WARNING,
            "configure_logging": True,
        }
        if self.address:
            ray.init(address=self.address, **common)
        else:
            local: dict[str, Any] = {"include_dashboard": False}
            # Ray's default for a local instance (token authentication) stays; only its
            # startup warning that this default was chosen stays off the terminal
            logging.getLogger(
                "ray._private.authentication.authentication_token_setup"
            ).setLevel(logging.ERROR)
            if self.jobs:
                local["num_cpus"] = int(self.jobs)
            if self.object_store_memory:
                local["object_store_memory"] = int(self.object_store_memory)
            # every process of the new instance inherits the tag; the reaper ends them all
            # when this driver ends, even by SIGKILL (see the module docstring)
            tag = uuid.uuid4().hex
            self._reaper = _start_reaper(tag)
            previous = os.environ.get(_TAG_VAR)
            os.environ[_TAG_VAR] = tag
            try:
                ray.init(address="local", **local, **common)
            except BaseException:
                _stop_reaper(self._reaper)
                self._reaper = None
                raise
            finally:
                if previous is None:
                    os.environ.pop(_TAG_VAR, None)
                else:
                    os.environ[_TAG_VAR] = previous
        return True

    def map(self, task: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        if not items:
            return
        ray = self.ray
        started = self._connect()
        pending: list[Any] = []
        try:
            options: dict[str, Any] = {
                "num_cpus": self.num_cpus,
                "num_gpus": self.num_gpus,
                "max_retries": self.max_retries,
                "retry_exceptions": False,
            }
            if self.memory:
                options["memory"] = self.memory
            remote = ray.remote(_run_task).options(**options)
            threads = max(1, int(self.num_cpus))
            refs = {remote.remote(task, item, threads): i for i, item in enumerate(items)}
            pending = list(refs)
            while pending:
                finished, pending = ray.wait(pending, num_returns=1)
                for ref in finished:
                    i = refs[ref]
                    try:
                        result, error = ray.get(ref)
                    except ray.exceptions.RayTaskError as err:  # raised outside our wrapper
                        cause = getattr(err, "cause", None)
                        yield i, None, cause if isinstance(cause, BaseException) else err
                    except ray.exceptions.RayError as err:  # worker/node lost after retries
                        lost = RuntimeError(
                            f"Ray could not finish this run after {self.max_retries} "
                            f"retries: {type(err).__name__}: {str(err).splitlines()[0]}"
                        )
                        yield i, None, lost
                    else:
                        yield i, result, error
        finally:
            for ref in pending:  # interrupted (Ctrl-C, fail-fast): nothing more is computed
                with contextlib.suppress(Exception):  # already finished or gone
                    ray.cancel(ref, force=True)
            if started:
                ray.shutdown()
                _stop_reaper(self._reaper)
                self._reaper = None
