"""``sweep``: many runs over training sizes x compositions x interventions x seeds x models.

Every grid point is one :class:`RunSpec` (``train_size``, ``composition``, ``intervention``,
``seed``, ``model`` set on a base spec). Sizes are nested within a seed and composition (the
training rows of a smaller size are a subset of the larger's: see
:func:`fairsuite.interventions.nested_subsets`), and every run of a dataset is tested on the
same real test split, so a curve measures size and balance, not resampling noise.

The runs go through an executor (:mod:`fairsuite.experiments._executors`: serial, a local
process pool; Ray in the Ray extra) and every finished run is written into the run store
(:mod:`fairsuite.experiments._store`) as it arrives: an interrupted sweep started again computes
only what is missing. From the store come the tidy results (``results.parquet``, one row per run
x test set x attribute x group x metric, and one per disparity), the fitted slopes and the
sweep report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairsuite._io import atomic_write_bytes, atomic_write_text, dumps_json
from fairsuite.exceptions import DataChangeWarning, SpecError
from fairsuite.experiments._spec import RunSpec
from fairsuite.experiments._store import PIPELINE_REVISION, RunStore, run_key

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SweepSpec",
    "SweepResult",
    "sweep",
    "sweep_status",
    "load_sweep_spec",
    "tidy",
    "size_slopes",
]

_BAD_AXIS = "sweep: {axis!r} must be {allowed}; got {value!r}."
_EMPTY_AXIS = "sweep: {axis!r} is empty; give at least one value."


def _tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, int, float, Mapping)):
        return (value,)
    return tuple(value)


@dataclass(frozen=True)
class SweepSpec:
    """A grid of runs around a ``base`` spec.

    Attributes
    ----------
    base : RunSpec
        Everything the grid does not vary (dataset, task, sensitive attributes, model settings,
        evaluation settings).
    sizes : tuple of int or None
        Training-set sizes (rows); ``None`` trains on every training row.
    compositions : tuple
        Training-set compositions over ``composition_by``: ``"natural"``, ``"uniform"``,
        ``"parity"``, ``"GROUP=SHARE"`` (one group's share, the others in their natural
        proportions), or a mapping group -> share.
    composition_by : tuple of str
        The attribute(s) a composition is over (default: the first audited attribute).
    interventions : tuple of str or None
        ``None`` (no intervention) and/or intervention names (``reweigh``, ``oversample``, ...).
    seeds : tuple of int
    models : tuple of str
        Default: the base spec's model.
    test_on : tuple of str
        Other datasets whose test splits every run is also scored on (shared taxonomy).
    executor : str or None
        Where the runs execute by default (``serial``, ``local``, ``ray``); not part of the grid
        (the same runs, wherever they run).
    jobs : int or None
        Workers of the local executor by default.
    """

    base: RunSpec
    sizes: tuple[int | None, ...] = (None,)
    compositions: tuple[Any, ...] = ("natural",)
    composition_by: tuple[str, ...] = ()
    interventions: tuple[str | None, ...] = (None,)
    seeds: tuple[int, ...] = (0,)
    models: tuple[str, ...] = ()
    test_on: tuple[str, ...] = ()
    executor: str | None = None
    jobs: int | None = None

    def __post_init__(self) -> None:
        for axis in ("sizes", "compositions", "interventions", "seeds"):
            if not getattr(self, axis):
                raise SpecError(_EMPTY_AXIS.format(axis=axis))
        for size in self.sizes:
            if size is not None and (isinstance(size, bool) or not isinstance(size, int)
                                     or size < 10):
                raise SpecError(
                    _BAD_AXIS.format(axis="sizes", allowed="integers >= 10", value=size)
                )
        for seed in self.seeds:
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise SpecError(_BAD_AXIS.format(axis="seeds", allowed="integers >= 0", value=seed))
        from fairsuite.experiments._executors import EXECUTORS

        if self.executor is not None and self.executor not in EXECUTORS:
            raise SpecError(
                _BAD_AXIS.format(axis="executor", allowed=" or ".join(EXECUTORS),
                                 value=self.executor)
            )
        jobs = self.jobs
        if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
            raise SpecError(_BAD_AXIS.format(axis="jobs", allowed="an integer >= 1", value=jobs))

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], base: RunSpec, *, source: str = "sweep spec"
    ) -> SweepSpec:
        """Read a ``sweep:`` section (its keys: the attribute names above)."""
        allowed = [f.name for f in dataclasses.fields(cls) if f.name != "base"]
        for key in data:
            if key not in allowed:
                raise SpecError(
                    f"{source}: unknown key {key!r} in 'sweep'. Allowed keys: {', '.join(allowed)}."
                )
        scalars = ("executor", "jobs")
        values: dict[str, Any] = {
            k: (v if k in scalars else _tuple(v)) for k, v in data.items()
        }
        if "sizes" in values:
            values["sizes"] = tuple(None if s in ("all", None) else s for s in values["sizes"])
        return cls(base=base, **values)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the base spec and the axes."""
        out: dict[str, Any] = {"base": self.base.to_dict()}
        for f in dataclasses.fields(self):
            if f.name in ("executor", "jobs"):
                out[f.name] = getattr(self, f.name)
            elif f.name != "base":
                values = getattr(self, f.name)
                out[f.name] = [dict(v) if isinstance(v, Mapping) else v for v in values]
        out["base"].pop("data_dir", None)
        return out

    def grid(self) -> list[RunSpec]:
        """Every run of the sweep, one RunSpec each (models x interventions x compositions x
        seeds x sizes, sizes innermost)."""
        models = self.models or (self.base.model,)
        specs = []
        for model in models:
            for intervention in self.interventions:
                for composition in self.compositions:
                    for seed in self.seeds:
                        for size in self.sizes:
                            specs.append(
                                dataclasses.replace(
                                    self.base,
                                    model=model,
                                    intervention=intervention,
                                    composition=composition,
                                    composition_by=self.composition_by,
                                    seed=seed,
                                    train_size=size,
                                )
                            )
        for spec in specs:
            spec.validate(source="sweep")
        return specs


# ----------------------------------------------------------------------------------------------
# one grid point (runs in a worker: module-level, plain data in and out)
# ----------------------------------------------------------------------------------------------


def run_point(item: Mapping[str, Any]) -> dict[str, Any]:
    """Run one grid point and score it on ``test_on`` datasets; plain data for any executor."""
    from fairsuite.experiments._executors import apply_worker_threads
    from fairsuite.experiments._run import run

    apply_worker_threads()
    spec = RunSpec.from_dict(item["spec"], source="sweep point")
    with warnings.catch_warnings():
        if item.get("announced"):  # the driver's pre-flight announced the data changes
            warnings.simplefilter("ignore", DataChangeWarning)
        record, model = run(spec)
        cross = {
            name: _score_elsewhere(spec, record, model, name) for name in item.get("test_on") or ()
        }
    cross = {v["dataset"]: {"metrics": v["metrics"], "headline": v["headline"]}
             for v in cross.values()}
    return {"record": record.to_dict(), "predictions": record.predictions, "cross": cross}


def _score_elsewhere(spec: RunSpec, record: Any, model: Any, name: str) -> dict[str, Any]:
    """Score a run's model on the test split of dataset ``name`` (shared taxonomy)."""
    from fairsuite.experiments._run import load_stage, resolve, score_stage, split_stage
    from fairsuite.metrics import headline

    other = dataclasses.replace(spec, dataset=name, task=spec.task, train_size=None,
                                intervention=None)
    loaded = load_stage(other)
    loaded = dataclasses.replace(loaded, audited=record.dataset.audited)
    split = split_stage(loaded, other, resolve(other, loaded.dataset.kind))
    _, result, _ = score_stage(
        model, split, record.dataset.audited, record.dataset.target_attributes, spec
    )
    return {"dataset": split.dataset.name, "metrics": result.to_dict(),
            "headline": headline(result).to_dict()}


# ----------------------------------------------------------------------------------------------
# the driver
# ----------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """What a sweep produced: its store, the status, the tidy table and the fitted slopes."""

    spec: SweepSpec
    out: Path
    status: dict[str, Any]
    results: pd.DataFrame
    slopes: pd.DataFrame
    computed: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def _progress_line(done: int, total: int, t0: float, computed: int) -> str:
    elapsed = time.perf_counter() - t0
    rate = elapsed / computed if computed else None
    left = (total - done) * rate if rate is not None else None
    eta = f", about {left:,.0f} s left" if left is not None else ""
    return f"sweep: {done}/{total} runs done, {elapsed:,.0f} s elapsed{eta}"


def _preflight(spec: SweepSpec, todo: Sequence[RunSpec]) -> None:
    """Open the sweep's datasets and check its interventions once, in the driver, before any
    run starts: a bad dataset, column or intervention is one error with its exit code (not a
    failed run per grid point), and data changes are announced once (the runs record them but
    do not repeat them)."""
    from fairsuite.experiments._run import load_stage

    loaded = load_stage(todo[0])
    for intervention in dict.fromkeys(s.intervention for s in todo if s.intervention):
        from fairsuite.interventions import plan_intervention

        first = next(s for s in todo if s.intervention == intervention)
        plan_intervention(first, loaded.dataset, loaded.audited)
    for name in spec.test_on:
        load_stage(dataclasses.replace(todo[0], dataset=name, train_size=None, intervention=None))


def sweep_status(spec: SweepSpec, out: str | os.PathLike[str]) -> dict[str, Any]:
    """Done / missing / failed runs of a sweep in its store (nothing is run)."""
    return RunStore(out).status(spec.grid()).to_dict()


def sweep(
    spec: SweepSpec,
    out: str | os.PathLike[str],
    *,
    executor: str | None = None,
    jobs: int | None = None,
    fail_fast: bool = False,
    progress: bool = True,
    report: bool = True,
    executor_options: Mapping[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
) -> SweepResult:
    """Run every missing point of ``spec`` into the run store ``out``; then tabulate and chart.

    Finished runs are written as they arrive (atomically), so a sweep interrupted by Ctrl-C, a
    killed process or a crashed worker computes only the missing runs when started again. A
    failed run is recorded with its error and does not stop the sweep (unless ``fail_fast``);
    a later sweep tries it again.

    Returns
    -------
    SweepResult
        ``results``: the tidy table (also ``results.parquet``); ``slopes``: the disparity
        slope per decade of training size (also ``slopes.csv``); ``report.html`` in ``out``.
    """
    from fairsuite.experiments._executors import get_executor

    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    out = Path(out)
    store = RunStore(out)
    specs = spec.grid()
    before = store.status(specs)
    todo = [s for s in specs if run_key(s) not in set(before.done)]
    executor = executor or spec.executor or "serial"
    ex = get_executor(executor, jobs=jobs or spec.jobs, **dict(executor_options or {}))
    if todo:
        _preflight(spec, todo)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "sweep.json", dumps_json(spec.to_dict()) + "\n")
    total = len(specs)
    done = len(before.done)
    if done:
        say(f"sweep: {done} of {total} runs already in {out}; computing the {len(todo)} missing")
    if before.stale:
        say(
            f"sweep: {len(before.stale)} stored run(s) were computed by an older fairsuite "
            f"pipeline (revision < {PIPELINE_REVISION}: a fix changed their results); "
            "recomputing them"
        )
    items = [{"spec": s.to_dict(), "test_on": list(spec.test_on), "announced": True}
             for s in todo]
    t0 = time.perf_counter()
    computed = 0
    failed: dict[str, str] = {}
    for i, result, error in ex.map(run_point, items):
        s = todo[i]
        if error is not None:
            store.put_failure(s, error)
            failed[run_key(s)] = f"{type(error).__name__}: {error}".splitlines()[0]
            say(f"sweep: run {run_key(s)} failed: {failed[run_key(s)]}")
            if fail_fast:
                raise error
        else:
            from fairsuite.experiments._record import RunRecord

            record = RunRecord.from_dict(result["record"], predictions=result["predictions"])
            store.put(record, cross=result.get("cross"))
        computed += 1
        done += 1
        if progress:
            say(_progress_line(done, total, t0, computed))
    status = store.status(specs).to_dict()
    results = tidy(store, specs)
    slopes = size_slopes(results)
    buf = _parquet_bytes(results)
    atomic_write_bytes(out / "results.parquet", buf)
    atomic_write_text(out / "slopes.csv", slopes.to_csv(index=False))
    atomic_write_text(out / "status.json", dumps_json(status) + "\n")
    result = SweepResult(spec, out, status, results, slopes, computed, failed)
    if report:
        from fairsuite.report import write_sweep_report

        write_sweep_report(result, out / "report.html")
    return result


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    import io

    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------
# tidy results and fits
# ----------------------------------------------------------------------------------------------

#: Columns of the tidy table, in order.
TIDY_COLUMNS = (
    "run",
    "dataset",
    "tested_on",
    "model",
    "seed",
    "train_size",
    "train_rows",
    "composition",
    "intervention",
    "kind",
    "attribute",
    "group",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "n",
)


def _composition_label(value: Any) -> str:
    if value is None:
        return "natural"
    if isinstance(value, Mapping):
        return json.dumps(dict(value), sort_keys=True)
    return str(value)


def _rows(
    base: dict[str, Any], metrics: Mapping[str, Any]
) -> list[dict[str, Any]]:
    rows = []
    for m, v in (metrics.get("overall") or {}).items():
        rows.append({**base, "kind": "overall", "attribute": "overall", "group": "overall",
                     "metric": m, "value": v.get("value"), "ci_low": v.get("ci_low"),
                     "ci_high": v.get("ci_high"), "n": metrics.get("n")})
    for a in metrics.get("attributes") or []:
        for g in a.get("groups") or []:
            for m, v in (g.get("metrics") or {}).items():
                rows.append({**base, "kind": "group", "attribute": a["name"], "group": g["group"],
                             "metric": m, "value": v.get("value"), "ci_low": v.get("ci_low"),
                             "ci_high": v.get("ci_high"), "n": g.get("n")})
        for m, d in (a.get("disparities") or {}).items():
            diff = d.get("difference") or {}
            rows.append({**base, "kind": "disparity", "attribute": a["name"],
                         "group": f"{d.get('worst_group')} vs {d.get('best_group')}",
                         "metric": m, "value": diff.get("value"), "ci_low": diff.get("ci_low"),
                         "ci_high": diff.get("ci_high"), "n": len(d.get("groups_compared") or [])})
        for m, v in (a.get("summary") or {}).items():
            rows.append({**base, "kind": "disparity", "attribute": a["name"], "group": "",
                         "metric": m, "value": v.get("value"), "ci_low": v.get("ci_low"),
                         "ci_high": v.get("ci_high"), "n": None})
    return rows


def tidy(store: RunStore, specs: Sequence[RunSpec]) -> pd.DataFrame:
    """One row per finished run x test set x attribute x group x metric (``kind`` ``group`` or
    ``overall``), and one per run x test set x attribute x disparity (``kind`` ``disparity``:
    the gap ``max - min`` of a metric, or a fairness summary), with value, interval and n."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for spec in specs:
        key = run_key(spec)
        record = store.current(key)  # a stale run stays out until it is recomputed
        if record is None:
            continue
        training = record.training
        base = {
            "run": key,
            "dataset": record.dataset.name,
            "model": record.settings.get("model", spec.model),
            "seed": spec.seed,
            "train_size": spec.train_size,
            "train_rows": None if training is None else training.rows_used,
            "composition": _composition_label(spec.composition),
            "intervention": spec.intervention or "none",
        }
        rows += _rows({**base, "tested_on": record.dataset.name}, record.result.to_dict())
        for name, cross in store.cross(key).items():
            rows += _rows({**base, "tested_on": name}, cross["metrics"])
    frame = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    for col in ("value", "ci_low", "ci_high"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


#: Disparities that do not depend on the model (the same for every run on one test split).
MODEL_FREE_METRICS = ("base_rate",)


def size_slopes(results: pd.DataFrame, *, ci: float = 0.95) -> pd.DataFrame:
    """The slope of every disparity (and overall accuracy) against log10(training rows): the
    change per decade of training size, by ordinary least squares over all runs of one
    (test set, model, composition, intervention, attribute, metric) -- sizes x seeds -- with a
    t interval. Its residuals hold the seed-to-seed and sampling variation of the gaps, so the
    interval answers "does the gap shrink with more data?" for this sweep.
    Rows need at least three runs at two or more sizes; the base-rate gap (a property of the
    test split, the same for every run) is left out."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    cols = ["tested_on", "model", "composition", "intervention", "attribute", "metric"]
    want = results[
        (
            (results["kind"] == "disparity")
            # the test split's base-rate gap is a property of the data, not of the model
            & ~results["metric"].isin(MODEL_FREE_METRICS)
        )
        | ((results["kind"] == "overall") & (results["metric"] == "accuracy"))
    ].dropna(subset=["value", "train_rows"])
    out = []
    for keys, g in want.groupby(cols, sort=True):
        x = np.log10(g["train_rows"].astype(float).to_numpy())
        y = g["value"].to_numpy(dtype=float)
        if len(g) < 3 or len(np.unique(x)) < 2:
            continue
        fit = stats.linregress(x, y)
        dof = len(g) - 2
        t = stats.t.ppf(0.5 + ci / 2, dof) if dof > 0 else np.nan
        se = fit.stderr if dof > 0 else np.nan
        out.append(
            {
                **dict(zip(cols, keys, strict=True)),
                "slope_per_decade": fit.slope,
                "ci_low": fit.slope - t * se,
                "ci_high": fit.slope + t * se,
                "intercept": fit.intercept,
                "runs": len(g),
                "sizes": len(np.unique(x)),
            }
        )
    return pd.DataFrame(
        out,
        columns=[*cols, "slope_per_decade", "ci_low", "ci_high", "intercept", "runs", "sizes"],
    )


def load_sweep_spec(path: str | os.PathLike[str]) -> SweepSpec:
    """Read a spec file with a ``sweep:`` section: the other keys are the base RunSpec's."""
    from fairsuite.experiments._spec import _read_yaml, _resolve_table_path

    path = Path(path)
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a sweep spec must be a YAML mapping; got {type(data).__name__}.")
    data = dict(data)
    axes = data.pop("sweep", None)
    if not isinstance(axes, dict):
        raise SpecError(
            f"{path}: a sweep spec needs a 'sweep:' section (sizes, compositions, seeds, ...)."
        )
    base = RunSpec.from_dict(data, source=str(path))
    base = dataclasses.replace(base, dataset=_resolve_table_path(base.dataset, path.parent))
    return SweepSpec.from_dict(axes, base, source=str(path))
