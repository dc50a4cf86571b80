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


#: what makes one setting of a sweep: the runs of a setting differ only in their seed
_SETTING = ["tested_on", "model", "composition", "intervention", "train_size"]
#: the key under every curve chart (the HTML captions say it in full)
_KEY = (
    "line: mean over seeds; dots: single runs\n"
    "band: {pct} interval for the expected {what} of a model trained at that setting"
)


def _pct(ci: float) -> str:
    return f"{100 * ci:g}%"


def _bands(frame: pd.DataFrame, by: list[str], ci: float) -> pd.DataFrame:
    """Seed bands (:func:`fairsuite.experiments.seed_bands`) sorted by training rows."""
    from fairsuite.experiments._bands import seed_bands

    return seed_bands(frame, [*_SETTING, *by], ci=ci).sort_values("train_rows", kind="stable")


def _key(fig: Any, ci: float, what: str) -> None:
    """What the line, the band and the dots are, under the chart."""
    fig.supxlabel(_KEY.format(pct=_pct(ci), what=what), fontsize=8, color="#57606a")


def _rows_tick(x: float) -> str:
    """A training-size tick: 500, 4k, 30.2k (plain text: the charts do not parse mathtext)."""
    if x < 1000:
        return f"{x:.0f}"
    k = x / 1000
    return f"{k:.0f}k" if abs(k - round(k)) < 0.05 or k >= 100 else f"{k:.1f}k"


def _log_rows_axis(ax: Any, rows: Any) -> None:
    """Log-scaled x axis with a tick at every training size of the chart."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    ax.set_xscale("log")
    ticks = sorted({float(r) for r in rows if r == r})
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xticklabels([_rows_tick(t) for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _draw_band(
    ax: Any, runs: pd.DataFrame, band: pd.DataFrame, *, color: str, i: int, label: str
) -> None:
    """The mean over seeds (line), its seed band (shaded) and the single runs (dots)."""
    import seaborn as sns

    sns.lineplot(
        data=band,
        x="train_rows",
        y="value",
        ax=ax,
        color=color,
        marker=_MARKERS[i % len(_MARKERS)],
        linestyle=_DASHES[i % len(_DASHES)],
        label=label,
        errorbar=None,
    )
    ax.fill_between(
        band["train_rows"], band["ci_low"], band["ci_high"], color=color, alpha=0.15, linewidth=0
    )
    ax.scatter(runs["train_rows"], runs["value"], color=color, s=6, alpha=0.5, linewidths=0)


def _group_curves(frame: pd.DataFrame, attribute: str, salt: str, ci: float = 0.95) -> str:
    """Accuracy of each group of ``attribute`` against training rows (log scale), one panel per
    model x composition x intervention: the mean over seeds, its seed band (an interval for
    the expected accuracy of a model trained at that setting) and the single runs."""
    from fairsuite.report._charts import PALETTE, _figure, _to_svg

    d = frame[
        (frame["kind"] == "group")
        & (frame["attribute"] == attribute)
        & (frame["metric"] == "accuracy")
    ].dropna(subset=["value"])
    bands = _bands(d, ["group"], ci)
    panels = sorted(d.groupby(["model", "composition", "intervention"]).groups)
    multi_model = d["model"].nunique() > 1
    multi_interv = d["intervention"].nunique() > 1
    fig = _figure(4.2 * max(1, min(len(panels), 4)), 3.4 * math.ceil(max(1, len(panels)) / 4))
    grid = fig.subplots(
        math.ceil(max(1, len(panels)) / 4), min(max(1, len(panels)), 4), squeeze=False, sharey=True
    )
    axes = [ax for row in grid for ax in row]
    groups = sorted(d["group"].unique())
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax, (model, comp, interv) in zip(axes, panels, strict=False):
        here = [("model", model), ("composition", comp), ("intervention", interv)]
        sub = d
        band_sub = bands
        for col, val in here:
            sub = sub[sub[col] == val]
            band_sub = band_sub[band_sub[col] == val]
        for i, group in enumerate(groups):
            b = band_sub[band_sub["group"] == group]
            if b.empty:
                continue
            _draw_band(
                ax,
                sub[sub["group"] == group],
                b,
                color=PALETTE[i % len(PALETTE)],
                i=i,
                label=str(group),
            )
        _log_rows_axis(ax, band_sub["train_rows"])
        title = [model] if multi_model else []
        title.append(f"composition {comp}")
        if multi_interv:
            title.append(f"intervention {interv}")
        ax.set_title(", ".join(title))
        ax.set_xlabel("training rows (log scale)")
        ax.set_ylabel(f"accuracy by {attribute}")
        _axes_style(ax)
        _legend(ax)
    _key(fig, ci, "accuracy")
    return _to_svg(fig, salt)


def _gap_curve(
    frame: pd.DataFrame, slopes: pd.DataFrame, metric: str, salt: str, ci: float = 0.95
) -> str:
    """A disparity against training rows (log scale), one line per attribute x model x
    composition x intervention: the mean over seeds, its seed band (an interval for the
    expected gap of a model trained at that setting), the single runs, and the fitted slope in
    the legend."""
    from fairsuite.report._charts import PALETTE, _figure, _to_svg

    d = frame[(frame["kind"] == "disparity") & (frame["metric"] == metric)].dropna(subset=["value"])
    bands = _bands(d, ["attribute"], ci)
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
        b = bands[
            (bands["attribute"] == attr)
            & (bands["model"] == model)
            & (bands["composition"] == comp)
            & (bands["intervention"] == interv)
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
        _draw_band(ax, g, b, color=PALETTE[i % len(PALETTE)], i=i, label=label)
    _log_rows_axis(ax, bands["train_rows"])
    ax.set_title(f"{_GAP_LABELS.get(metric, metric)} against training size")
    ax.set_xlabel("training rows (log scale)")
    ax.set_ylabel("gap")
    _axes_style(ax)
    _legend(ax, 7)
    _key(fig, ci, "gap")
    return _to_svg(fig, salt)


def _largest(bands: pd.DataFrame) -> pd.DataFrame:
    """Of each model x composition x intervention, the setting with the most training rows."""
    keys = ["model", "composition", "intervention"]
    top = bands.groupby(keys)["train_rows"].transform("max")
    return bands[bands["train_rows"] == top]


def _plane(frame: pd.DataFrame, salt: str, ci: float = 0.95) -> str:
    """Accuracy against demographic parity difference, one point per model x composition x
    intervention at its largest training size (the mean over seeds; bars: the seed bands):
    data-side and model-side fixes on one plane."""
    from fairsuite.report._charts import PALETTE, _figure, _to_svg

    acc = frame[(frame["kind"] == "overall") & (frame["metric"] == "accuracy")]
    dp = frame[
        (frame["kind"] == "disparity") & (frame["metric"] == "demographic_parity_difference")
    ]
    attrs = sorted(dp["attribute"].unique())
    dp = dp[dp["attribute"] == (attrs[0] if attrs else None)]
    points = _largest(_bands(acc, [], ci)).merge(
        _bands(dp, [], ci).drop(columns=["train_rows"]), on=_SETTING, suffixes=("", "_dp")
    )
    fig = _figure(5.6, 3.8)
    ax = fig.subplots()
    for i, p in enumerate(points.itertuples()):
        x, y = p.value_dp, p.value
        ax.errorbar(
            [x],
            [y],
            xerr=[[x - p.ci_low_dp], [p.ci_high_dp - x]],
            yerr=[[y - p.ci_low], [p.ci_high - y]],
            fmt=_MARKERS[i % len(_MARKERS)],
            color=PALETTE[i % len(PALETTE)],
            capsize=3,
            label=f"{p.model}, {p.composition}, {p.intervention} ({p.train_rows:,.0f} rows)",
        )
    ax.set_title("Accuracy against demographic parity difference")
    ax.set_xlabel(
        f"demographic parity difference over {attrs[0] if attrs else '-'} (lower is fairer)"
    )
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


def _rows_label(rows: pd.Series) -> str:
    """Training rows of a setting's runs: one number, or the range when seeds differ."""
    r = rows.dropna()
    if r.empty:
        return "n/a"
    lo, hi = int(r.min()), int(r.max())
    return f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}"


def _summary_table(frame: pd.DataFrame, ci: float = 0.95) -> list[dict[str, Any]]:
    """Per setting: overall accuracy and each attribute's accuracy gap, the mean over seeds
    with its seed band (an interval for the expected value at that setting)."""
    import pandas as pd

    from fairsuite.experiments._bands import seed_bands

    acc = frame[(frame["kind"] == "overall") & (frame["metric"] == "accuracy")]
    gaps = frame[
        (frame["kind"] == "disparity") & (frame["metric"] == "accuracy") & frame["group"].ne("")
    ]
    acc_b = seed_bands(acc, _SETTING, ci=ci)
    gap_b = seed_bands(gaps, [*_SETTING, "attribute"], ci=ci)

    def same(table: pd.DataFrame, entry: dict[str, Any]) -> pd.DataFrame:
        for c, v in entry.items():
            table = table[table[c] == v] if not pd.isna(v) else table[table[c].isna()]
        return table

    rows = []
    for b in acc_b.sort_values([*_SETTING[:-1], "train_rows"], kind="stable").itertuples():
        entry = {c: getattr(b, c) for c in _SETTING}
        rows.append(
            {
                **{k: str(v) for k, v in entry.items() if k != "train_size"},
                "train_rows": _rows_label(same(acc, entry)["train_rows"]),
                "runs": b.runs,
                "accuracy": _fmt(b.value),
                "accuracy_ci": f"[{_fmt(b.ci_low)}, {_fmt(b.ci_high)}]",
                "gaps": [
                    f"{x.attribute}: {_fmt(x.value)} [{_fmt(x.ci_low)}, {_fmt(x.ci_high)}]"
                    for x in same(gap_b, entry).sort_values("attribute").itertuples()
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
    ci = float(getattr(spec.base, "ci", 0.95))
    own = frame[frame["tested_on"] == frame["dataset"]]
    attributes = sorted(own.loc[own["kind"] == "group", "attribute"].unique())
    single = [a for a in attributes if " x " not in a]
    curves = [
        {"attribute": a, "svg": _group_curves(own, a, f"sweep-groups-{i}", ci)}
        for i, a in enumerate(attributes)
        if a in single or len(attributes) <= 3
    ]
    gap_charts = [
        {"metric": _GAP_LABELS.get(m, m), "svg": _gap_curve(own, slopes, m, f"sweep-gap-{m}", ci)}
        for m in _GAP_METRICS
        if not own[(own["kind"] == "disparity") & (own["metric"] == m)]
        .dropna(subset=["value"])
        .empty
    ]
    plane = _plane(own, "sweep-plane", ci) if own["intervention"].nunique() > 1 else None
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
        "table": _summary_table(frame, ci),
        "ci": _pct(ci),
        "seeds_min": int(frame.groupby(_SETTING, dropna=False)["seed"].nunique().min())
        if len(frame)
        else 0,
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
