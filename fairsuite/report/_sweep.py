"""The sweep report: curves of subgroup error against training size and composition.

Built from a sweep's tidy results (:func:`fairsuite.experiments.tidy`) and fitted slopes, with
seaborn on explicit matplotlib figures (inline SVG, deterministic, no pyplot). Every curve is
told apart by marker and line style as well as colour, every point shows its interval, and the
tables carry the numbers behind the charts.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairsuite._io import atomic_write_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["render_sweep_html", "write_sweep_report"]

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_DASHES = ("-", "--", ":", "-.")
_GAP_METRICS = ("accuracy", "demographic_parity_difference", "equalized_odds_difference")
_GAP_LABELS = {
    "accuracy": "accuracy gap (max - min)",
    "demographic_parity_difference": "demographic parity difference",
    "equalized_odds_difference": "equalized odds difference",
    "error_rate": "error-rate gap (max - min)",
}


def _axes_style(ax: Any) -> None:
    from fairsuite.report._charts import GRID

    ax.grid(True, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


def _legend(ax: Any, size: int = 8) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, fontsize=size, frameon=False)


def _group_curves(frame: pd.DataFrame, attribute: str, salt: str) -> str:
    """Accuracy of each group of ``attribute`` against training rows (log scale), per
    composition panel: mean over seeds, the band spans the runs' intervals."""
    import seaborn as sns

    from fairsuite.report._charts import PALETTE, _figure, _to_svg

    d = frame[
        (frame["kind"] == "group")
        & (frame["attribute"] == attribute)
        & (frame["metric"] == "accuracy")
    ]
    panels = sorted(d.groupby(["model", "composition"]).groups)
    multi_model = d["model"].nunique() > 1
    fig = _figure(4.2 * max(1, min(len(panels), 4)), 3.4 * math.ceil(max(1, len(panels)) / 4))
    grid = fig.subplots(
        math.ceil(max(1, len(panels)) / 4), min(max(1, len(panels)), 4), squeeze=False, sharey=True
    )
    axes = [ax for row in grid for ax in row]
    groups = sorted(d["group"].unique())
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax, (model, comp) in zip(axes, panels, strict=False):
        sub = d[(d["model"] == model) & (d["composition"] == comp)]
        for i, group in enumerate(groups):
            g = (
                sub[sub["group"] == group]
                .groupby("train_rows", as_index=False)
                .agg(value=("value", "mean"), lo=("ci_low", "mean"), hi=("ci_high", "mean"))
            )
            if g.empty:
                continue
            color = PALETTE[i % len(PALETTE)]
            sns.lineplot(
                data=g,
                x="train_rows",
                y="value",
                ax=ax,
                color=color,
                marker=_MARKERS[i % len(_MARKERS)],
                linestyle=_DASHES[i % len(_DASHES)],
                label=str(group),
                errorbar=None,
            )
            ax.fill_between(g["train_rows"], g["lo"], g["hi"], color=color, alpha=0.12)
        ax.set_xscale("log")
        ax.set_title(f"{model}, composition {comp}" if multi_model else f"composition {comp}")
        ax.set_xlabel("training rows (log scale)")
        ax.set_ylabel(f"accuracy by {attribute}")
        _axes_style(ax)
        _legend(ax)
    return _to_svg(fig, salt)


def _gap_curve(frame: pd.DataFrame, slopes: pd.DataFrame, metric: str, salt: str) -> str:
    """A disparity against training rows (log scale), one line per attribute x composition x
    intervention, each run a point with its interval, and the fitted slope in the legend."""
    import seaborn as sns

    from fairsuite.report._charts import PALETTE, _figure, _to_svg

    d = frame[(frame["kind"] == "disparity") & (frame["metric"] == metric)].dropna(subset=["value"])
    fig = _figure(6.4, 3.8)
    ax = fig.subplots()
    keys = sorted(d.groupby(["attribute", "model", "composition", "intervention"]).groups)
    for i, (attr, model, comp, interv) in enumerate(keys):
        g = d[
            (d["attribute"] == attr)
            & (d["model"] == model)
            & (d["composition"] == comp)
            & (d["intervention"] == interv)
        ]
        s = slopes[
            (slopes["attribute"] == attr)
            & (slopes["model"] == model)
            & (slopes["composition"] == comp)
            & (slopes["intervention"] == interv)
            & (slopes["metric"] == metric)
            & (slopes["tested_on"] == g["tested_on"].iloc[0])
        ]
        label = f"{attr}, {model}, {comp}, {interv}"
        if len(s):
            r = s.iloc[0]
            label += (
                f" (slope {r.slope_per_decade:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]/decade)"
            )
        color = PALETTE[i % len(PALETTE)]
        means = g.groupby("train_rows", as_index=False)["value"].mean()
        sns.lineplot(
            data=means,
            x="train_rows",
            y="value",
            ax=ax,
            color=color,
            marker=_MARKERS[i % len(_MARKERS)],
            linestyle=_DASHES[i % len(_DASHES)],
            label=label,
            errorbar=None,
        )
        ax.errorbar(
            g["train_rows"],
            g["value"],
            yerr=[g["value"] - g["ci_low"], g["ci_high"] - g["value"]],
            fmt="none",
            ecolor=color,
            alpha=0.35,
            capsize=2,
        )
    ax.set_xscale("log")
    ax.set_title(f"{_GAP_LABELS.get(metric, metric)} against training size")
    ax.set_xlabel("training rows (log scale)")
    ax.set_ylabel("gap (bars: 95% interval of a run)")
    _axes_style(ax)
    _legend(ax, 7)
    return _to_svg(fig, salt)


def _plane(frame: pd.DataFrame, salt: str) -> str:
    """Accuracy against demographic parity difference, one point per intervention (mean over
    runs, bars: mean interval): data-side and model-side fixes on one plane."""
    from fairsuite.report._charts import PALETTE, _figure, _to_svg

    acc = frame[(frame["kind"] == "overall") & (frame["metric"] == "accuracy")]
    dp = frame[
        (frame["kind"] == "disparity") & (frame["metric"] == "demographic_parity_difference")
    ]
    fig = _figure(5.6, 3.8)
    ax = fig.subplots()
    for i, (model, interv) in enumerate(sorted(acc.groupby(["model", "intervention"]).groups)):
        a = acc[(acc["model"] == model) & (acc["intervention"] == interv)]
        p = dp[(dp["model"] == model) & (dp["intervention"] == interv)]
        if a.empty or p.empty:
            continue
        first_attr = sorted(p["attribute"].unique())[0]
        p = p[p["attribute"] == first_attr]
        x, y = p["value"].mean(), a["value"].mean()
        ax.errorbar(
            [x],
            [y],
            xerr=[[x - p["ci_low"].mean()], [p["ci_high"].mean() - x]],
            yerr=[[y - a["ci_low"].mean()], [a["ci_high"].mean() - y]],
            fmt=_MARKERS[i % len(_MARKERS)],
            color=PALETTE[i % len(PALETTE)],
            capsize=3,
            label=f"{model}, {interv} (DP over {first_attr})",
        )
    ax.set_title("Accuracy against demographic parity difference, per intervention")
    ax.set_xlabel("demographic parity difference (lower is fairer)")
    ax.set_ylabel("overall accuracy")
    _axes_style(ax)
    _legend(ax)
    return _to_svg(fig, salt)


def _fmt(v: Any, digits: int = 3) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if math.isnan(f) else f"{f:.{digits}f}"


def _summary_table(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Per run setting (mean over seeds): accuracy and the accuracy gap of each attribute."""
    cols = ["tested_on", "model", "composition", "intervention", "train_rows"]
    acc = frame[(frame["kind"] == "overall") & (frame["metric"] == "accuracy")]
    gaps = frame[
        (frame["kind"] == "disparity") & (frame["metric"] == "accuracy") & frame["group"].ne("")
    ]
    rows = []
    for keys, a in acc.groupby(cols, sort=True, dropna=False):
        entry = dict(zip(cols, keys, strict=True))
        g = gaps
        for c, v in entry.items():
            g = g[g[c] == v] if v == v else g[g[c].isna()]
        rows.append(
            {
                **{k: str(v) for k, v in entry.items()},
                "runs": len(a),
                "accuracy": _fmt(a["value"].mean()),
                "accuracy_ci": f"[{_fmt(a['ci_low'].mean())}, {_fmt(a['ci_high'].mean())}]",
                "gaps": [
                    f"{attr}: {_fmt(x['value'].mean())} "
                    f"[{_fmt(x['ci_low'].mean())}, {_fmt(x['ci_high'].mean())}]"
                    for attr, x in g.groupby("attribute", sort=True)
                ],
            }
        )
    return rows


def sweep_context(result: Any) -> dict[str, Any]:
    """The template context of a sweep report (see :func:`render_sweep_html`)."""
    from fairsuite import __version__
    from fairsuite.report._context import _css

    frame = result.results
    slopes = result.slopes
    spec = result.spec
    own = frame[frame["tested_on"] == frame["dataset"]]
    attributes = sorted(own.loc[own["kind"] == "group", "attribute"].unique())
    single = [a for a in attributes if " x " not in a]
    curves = [
        {"attribute": a, "svg": _group_curves(own, a, f"sweep-groups-{i}")}
        for i, a in enumerate(attributes)
        if a in single or len(attributes) <= 3
    ]
    gap_charts = [
        {"metric": _GAP_LABELS.get(m, m), "svg": _gap_curve(own, slopes, m, f"sweep-gap-{m}")}
        for m in _GAP_METRICS
        if not own[(own["kind"] == "disparity") & (own["metric"] == m)]
        .dropna(subset=["value"])
        .empty
    ]
    plane = _plane(own, "sweep-plane") if own["intervention"].nunique() > 1 else None
    slope_rows = [
        {
            "tested_on": r.tested_on,
            "model": r.model,
            "composition": r.composition,
            "intervention": r.intervention,
            "attribute": r.attribute,
            "metric": _GAP_LABELS.get(r.metric, r.metric)
            if r.attribute != "overall"
            else "overall accuracy",
            "slope": f"{r.slope_per_decade:+.4f}",
            "ci": f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}]",
            "excludes_zero": bool(r.ci_low > 0 or r.ci_high < 0),
            "runs": int(r.runs),
        }
        for r in slopes.itertuples()
    ]
    status = result.status
    title = f"Sweep: {spec.base.dataset}"
    return {
        "title": title,
        "kind": "sweep",
        "generator": f"fairsuite v{__version__}",
        "css": _css(),
        "nav": [
            ("overview", "Overview"),
            ("curves", "Group curves"),
            ("gaps", "Gaps and size"),
            ("slopes", "Slopes"),
            ("table", "All settings"),
            ("provenance", "Provenance"),
        ],
        "status": status,
        "axes": {
            "sizes": [("all" if s is None else f"{s:,}") for s in spec.sizes],
            "compositions": [str(c) for c in spec.compositions],
            "composition_by": list(spec.composition_by) or ["first audited attribute"],
            "interventions": [str(i or "none") for i in spec.interventions],
            "seeds": list(spec.seeds),
            "models": list(spec.models) or [spec.base.model],
            "test_on": list(spec.test_on),
        },
        "curves": curves,
        "gap_charts": gap_charts,
        "plane": plane,
        "slopes": slope_rows,
        "table": _summary_table(frame),
        "failed": [
            {"run": k, "error": v} for k, v in sorted(status.get("failed_runs", {}).items())
        ],
        "summary": {"kind": "sweep", "status": status},
    }


def render_sweep_html(result: Any) -> str:
    """One self-contained HTML page for a :class:`fairsuite.experiments.SweepResult`."""
    from fairsuite.report._render import _template

    return _template("sweep.html").render(**sweep_context(result))


def write_sweep_report(result: Any, path: str | os.PathLike[str]) -> Path:
    """Render the sweep report and write it atomically to ``path``."""
    return atomic_write_text(path, render_sweep_html(result))
