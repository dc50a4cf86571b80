"""The sweep report says what its lines and bands are, and draws them from the seed bands (a
hand-made tidy table; the report of a real sweep is in tests/experiments/test_sweep.py)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest

from fairsuite.experiments import RunSpec, SweepSpec, seed_band
from fairsuite.report._render import _template
from fairsuite.report._sweep import render_sweep_html, sweep_context

SEEDS = (0, 1, 2)


def _tidy(seeds: tuple[int, ...] = SEEDS) -> pd.DataFrame:
    """Two sizes x two interventions x seeds, groups F and M, overall and the accuracy gap."""
    rows = []
    for size, rows_used in ((1000, 1000), (None, 8000)):
        for interv, shift in (("none", 0.0), ("reweigh", -0.02)):
            for seed in seeds:
                f = 0.90 + shift + 0.01 * seed
                m = 0.80 + shift - 0.01 * seed
                base = {
                    "run": f"{size}-{interv}-{seed}",
                    "dataset": "adult",
                    "tested_on": "adult",
                    "model": "logreg",
                    "seed": seed,
                    "train_size": size,
                    "train_rows": rows_used,
                    "composition": "natural",
                    "intervention": interv,
                }
                for kind, attr, group, metric, v in (
                    ("group", "gender", "F", "accuracy", f),
                    ("group", "gender", "M", "accuracy", m),
                    ("overall", "overall", "overall", "accuracy", (f + m) / 2),
                    ("disparity", "gender", "M vs F", "accuracy", f - m),
                    ("disparity", "gender", "", "demographic_parity_difference", 0.1),
                ):
                    rows.append(
                        {
                            **base,
                            "kind": kind,
                            "attribute": attr,
                            "group": group,
                            "metric": metric,
                            "value": v,
                            "ci_low": v - 0.01,
                            "ci_high": v + 0.01,
                            "n": 500,
                        }
                    )
    return pd.DataFrame(rows)


def _result(frame: pd.DataFrame, seeds: tuple[int, ...] = SEEDS) -> SimpleNamespace:
    spec = SweepSpec(
        base=RunSpec(dataset="adult", model="logreg", sensitive=("gender",)),
        sizes=(1000, None),
        interventions=(None, "reweigh"),
        seeds=seeds,
    )
    slopes = pd.DataFrame(
        columns=[
            "tested_on",
            "model",
            "composition",
            "intervention",
            "attribute",
            "metric",
            "slope_per_decade",
            "ci_low",
            "ci_high",
            "intercept",
            "runs",
            "sizes",
        ]
    )
    status = {
        "done": len(frame["run"].unique()),
        "total": len(frame["run"].unique()),
        "failed": 0,
        "missing": 0,
    }
    return SimpleNamespace(results=frame, slopes=slopes, spec=spec, status=status)


@pytest.fixture(scope="module")
def context() -> dict:
    return sweep_context(_result(_tidy()))


def test_table_shows_the_seed_band_of_each_setting(context: dict) -> None:
    frame = _tidy()
    acc = frame[
        (frame["kind"] == "overall")
        & (frame["train_size"] == 1000)
        & (frame["intervention"] == "none")
    ]
    mean, low, high, runs = seed_band(acc["value"], acc["ci_low"], acc["ci_high"])
    row = next(
        r for r in context["table"] if r["train_rows"] == "1,000" and r["intervention"] == "none"
    )
    assert row["runs"] == runs == 3
    assert row["accuracy"] == f"{mean:.3f}"
    assert row["accuracy_ci"] == f"[{low:.3f}, {high:.3f}]"
    gap = frame[
        (frame["kind"] == "disparity")
        & (frame["metric"] == "accuracy")
        & (frame["train_size"] == 1000)
        & (frame["intervention"] == "none")
    ]
    g = seed_band(gap["value"], gap["ci_low"], gap["ci_high"])
    assert row["gaps"] == [f"gender: {g[0]:.3f} [{g[1]:.3f}, {g[2]:.3f}]"]
    # "all" rows is a setting of its own; interventions are never averaged together
    assert len(context["table"]) == 4
    assert {r["train_rows"] for r in context["table"]} == {"1,000", "8,000"}


def test_captions_and_charts_say_what_line_and_band_are(context: dict) -> None:
    html = _template("sweep.html").render(**context)
    text = re.sub(r"<[^>]+>", " ", html)
    assert "spans the runs' intervals" not in html and "mean 95% interval" not in html
    assert "95% interval for the expected accuracy" in text
    assert "95% interval for the expected gap" in text
    for svg in [c["svg"] for c in context["curves"]] + [g["svg"] for g in context["gap_charts"]]:
        assert "line: mean over seeds; dots: single runs" in svg
        assert "band: 95% interval for the expected" in svg
    # one panel per intervention (the curves of none and reweigh are not pooled)
    assert "intervention reweigh" in context["curves"][0]["svg"]
    assert "Some settings have" not in html


def test_single_and_two_seed_settings_are_flagged() -> None:
    one = render_sweep_html(_result(_tidy((0,)), (0,)))
    assert "Some settings have a single run" in one
    two = render_sweep_html(_result(_tidy((0, 1)), (0, 1)))
    assert "Some settings have two runs" in two


def test_curve_charts_are_deterministic_and_label_sizes_in_plain_text() -> None:
    from fairsuite.report._sweep import _gap_curve

    frame = _tidy()
    slopes = _result(frame).slopes
    one = _gap_curve(frame, slopes, "accuracy", "t")
    assert one == _gap_curve(frame, slopes, "accuracy", "t")
    assert ">1k<" in one and ">8k<" in one and "mathdefault" not in one
