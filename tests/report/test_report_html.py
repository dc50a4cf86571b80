"""The HTML report: sections, escaping, offline, determinism, n/a, small groups, atomic writes.

These tests use hand-made result documents (``audit_fairface.json``, ``compare_utkface_fairface
.json``) for what the pipeline cannot produce on demand: schema 1 documents written by earlier
versions (the report still renders them), gate verdicts of every kind, undefined values with
reasons, malformed or missing sections, and renamed groups planted everywhere in a document.
Reports of real pipeline output (a COMPAS audit, an evaluation, a synthfaces audit, a compare)
are tested in ``test_report_real_runs.py``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fairsuite.exceptions import InvalidInputError
from fairsuite.report import _charts, _render, render_html, write_report

HERE = Path(__file__).resolve().parent
AUDIT_FIXTURE = HERE / "audit_fairface.json"
COMPARE_FIXTURE = HERE / "compare_utkface_fairface.json"
SCRIPT = "<script>alert(1)</script>"
AUDIT_SECTIONS = (
    "verdict",
    "composition",
    "groups",
    "intersection",
    "disparities",
    "charts",
    "training",
    "provenance",
)
COMPARE_SECTIONS = (
    "verdict",
    "composition",
    "heatmaps",
    "cells",
    "breakdown",
    "training",
    "provenance",
)


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


@pytest.fixture(scope="module")
def audit_doc() -> dict[str, Any]:
    return _load(AUDIT_FIXTURE)


@pytest.fixture(scope="module")
def compare_doc() -> dict[str, Any]:
    return _load(COMPARE_FIXTURE)


@pytest.fixture(scope="module")
def audit_html(audit_doc: dict[str, Any]) -> str:
    return render_html(audit_doc)


@pytest.fixture(scope="module")
def compare_html(compare_doc: dict[str, Any]) -> str:
    return render_html(compare_doc)


def _rename_group(doc: Any, old: str, new: str) -> Any:
    """Rename a group everywhere (values and dict keys), also inside 'A x B' / 'A & B' labels."""
    if isinstance(doc, dict):
        return {
            (k.replace(old, new) if isinstance(k, str) else k): _rename_group(v, old, new)
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [_rename_group(v, old, new) for v in doc]
    if isinstance(doc, str) and (doc == old or doc.startswith((f"{old} x ", f"{old} & "))):
        return doc.replace(old, new, 1)
    return doc


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


# --------------------------------------------------------------------------- sections
def test_audit_has_every_section(audit_html: str, audit_doc: dict[str, Any]) -> None:
    for section in AUDIT_SECTIONS:
        assert f'<section id="{section}"' in audit_html, section
    for heading in (
        "Headline",
        "Dataset composition",
        "Per-group metrics",
        "Intersectional groups",
        "Disparities",
        "Charts",
        "Training",
        "Provenance",
    ):
        assert f"<h2>{heading}</h2>" in audit_html
    assert audit_html.startswith("<!DOCTYPE html>")
    assert '<meta name="generator" content="fairsuite v0.1.0">' in audit_html
    # the verdict comes first
    assert audit_html.index('id="verdict"') < audit_html.index('id="composition"')
    # one error-rate chart per attribute (race, gender, race x gender) + 3 composition charts
    assert audit_html.count("<svg") == 6
    assert audit_html.count('id="chart-audit-') == 3
    ids = re.findall(r'\bid="([^"]+)"', audit_html)
    assert len(ids) == len(set(ids))  # ids are unique in the page, charts included
    # provenance: checksums, config hash, the spec as YAML
    for sha in audit_doc["dataset"]["checksums"].values():
        assert sha in audit_html
    assert audit_doc["config_hash"] in audit_html
    assert "image_size: 64" in audit_html
    assert "min_group_size: 30" in audit_html


def test_audit_headline_numbers(audit_html: str, audit_doc: dict[str, Any]) -> None:
    metrics = audit_doc["metrics"]
    overall = metrics["overall"]["accuracy"]
    head = audit_html[audit_html.index('id="verdict"') : audit_html.index('id="composition"')]
    assert _pct(overall["value"]) in head  # 86.8%
    assert f"[{overall['ci_low'] * 100:.1f}, {overall['ci_high'] * 100:.1f}]" in head
    assert f"n={metrics['n']:,} test rows" in head  # n=4,376
    # the least accurate evaluable group, over all attributes, is Black x Female (planted)
    inter = next(a for a in metrics["attributes"] if a["intersection"])
    bf = next(g for g in inter["groups"] if g["group"] == "Black x Female")
    assert "<strong>Black x Female</strong> (race x gender)" in head
    assert _pct(bf["metrics"]["accuracy"]["value"]) in head  # 74.3%
    # largest gap first, with its interval, in percentage points
    gap = inter["disparities"]["error_rate"]["difference"]
    assert f"{gap['value'] * 100:.1f} pp" in head
    assert head.index("race x gender</a>") < head.index(">race</a>") < head.index(">gender</a>")
    assert "no gate policy applied" in head


def test_compare_has_every_section(compare_html: str, compare_doc: dict[str, Any]) -> None:
    for section in COMPARE_SECTIONS:
        assert f'<section id="{section}"' in compare_html, section
    assert 'id="heatmap-accuracy"' in compare_html
    assert 'id="heatmap-gap"' in compare_html
    # one collapsible breakdown per cell of the 2 x 2 table
    assert compare_html.count('<details id="cell-') == 4
    for tr in compare_doc["datasets"]:
        for te in compare_doc["datasets"]:
            assert f'id="cell-{tr}-on-{te}"' in compare_html
    # per-cell accuracy with its interval and n, e.g. the utkface model on fairface
    cell = next(
        c for c in compare_doc["cells"] if (c["train"], c["test"]) == ("utkface", "fairface")
    )
    acc = cell["metrics"]["overall"]["accuracy"]
    cells = compare_html[compare_html.index('id="cells"') : compare_html.index('id="breakdown"')]
    assert _pct(acc["value"]) in cells
    assert f"[{acc['ci_low'] * 100:.1f}, {acc['ci_high'] * 100:.1f}]" in cells
    assert f"{cell['metrics']['n']:,}" in cells
    # heat map annotations carry value, interval and n
    assert f"{acc['value'] * 100:.1f}%" in compare_html
    for d in compare_doc["datasets"]:
        for sha in compare_doc["checksums"][d].values():
            assert sha in compare_html


# --------------------------------------------------------------------------- safety
def test_script_group_name_is_escaped(
    audit_doc: dict[str, Any], compare_doc: dict[str, Any]
) -> None:
    for doc in (audit_doc, compare_doc):
        evil = _rename_group(doc, "Black", SCRIPT)
        html = render_html(evil)
        assert SCRIPT not in html
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        # the charts got the name too, escaped by the SVG writer
        svgs = re.findall(r"<svg.*?</svg>", html, re.S)
        assert any("&lt;script&gt;" in s for s in svgs)
    # a hostile dataset name and n/a reason are escaped as well
    evil = copy.deepcopy(audit_doc)
    evil["dataset"]["name"] = SCRIPT
    evil["metrics"]["overall"]["accuracy"] = {
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "reason": f'"><b>{SCRIPT}',
    }
    html = render_html(evil)
    assert SCRIPT not in html
    assert "<b>" not in html


def _links(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]*)""", html, re.I)


def test_no_remote_assets(audit_html: str, compare_html: str) -> None:
    for html in (audit_html, compare_html):
        links = _links(html)
        assert links, "expected in-page navigation links"
        assert all(link.startswith("#") for link in links), [
            link for link in links if not link.startswith("#")
        ]
        assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
        assert "@import" not in html
        assert not re.search(r"url\((?!#)", html)  # only in-page references (SVG clip paths)
        assert "<img" not in html  # face images are never embedded
        assert "<?xml" not in html and "<metadata>" not in html


# --------------------------------------------------------------------------- determinism
def test_same_input_same_bytes(audit_doc: dict[str, Any], audit_html: str) -> None:
    assert render_html(copy.deepcopy(audit_doc)) == audit_html
    assert "uuid" not in audit_html


def test_same_bytes_in_another_process(audit_html: str) -> None:
    code = (
        "import hashlib, json, sys; from fairsuite.report import render_html; "
        f"d = json.load(open({str(AUDIT_FIXTURE)!r})); "
        "sys.stdout.write(hashlib.sha256(render_html(d).encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout == hashlib.sha256(audit_html.encode()).hexdigest()


def test_charts_are_byte_stable() -> None:
    groups = [
        {"label": "A (n=40)", "value": 0.2, "ci_low": 0.1, "ci_high": 0.3, "insufficient": False},
        {"label": "B (n=12)", "value": 0.4, "ci_low": 0.1, "ci_high": 0.7, "insufficient": True},
        {"label": "C (n=0)", "value": None, "ci_low": None, "ci_high": None, "insufficient": True},
    ]
    kwargs = {"overall": 0.25, "title": "Error rate by x", "xlabel": "error", "salt": "t"}
    first = _charts.group_error_chart(groups, **kwargs)
    assert first == _charts.group_error_chart(groups, **kwargs)
    assert first.startswith("<svg") and "Date" not in first
    # different salts give different ids, so two charts in one page never share an id
    other = _charts.group_error_chart(groups, **{**kwargs, "salt": "u"})
    ids_a = re.findall(r'id="([^"]+)"', first)
    ids_b = set(re.findall(r'id="([^"]+)"', other))
    assert ids_a and len(ids_a) == len(set(ids_a)) and not set(ids_a) & ids_b
    # every in-chart reference points at an id of the same chart
    refs = re.findall(r"url\(#([^)]+)\)", first)
    assert refs and set(refs) <= set(ids_a)


def test_input_not_modified(compare_doc: dict[str, Any]) -> None:
    before = json.dumps(compare_doc, sort_keys=True)
    render_html(compare_doc)
    assert json.dumps(compare_doc, sort_keys=True) == before


def test_importing_report_does_not_import_matplotlib() -> None:
    code = (
        "import sys, fairsuite.report; "
        "bad = [m for m in ('matplotlib', 'seaborn', 'torch') if m in sys.modules]; "
        "sys.stdout.write(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == ""


# --------------------------------------------------------------------------- content rules
def test_missing_values_show_na_with_reason(audit_html: str, audit_doc: dict[str, Any]) -> None:
    # TPR is undefined for the Male group (no positive labels): n/a with the reason as a title
    reason = "no positive labels (Female) in group: TPR undefined"
    assert f'<span class="na" title="{reason}">n/a</span>' in audit_html
    # NaN (as a float, not null) is n/a as well, never "nan"
    doc = copy.deepcopy(audit_doc)
    doc["metrics"]["overall"]["accuracy"] = {
        "value": float("nan"),
        "ci_low": float("nan"),
        "ci_high": None,
        "reason": "no rows",
    }
    html = render_html(doc)
    head = html[html.index('id="verdict"') : html.index('id="composition"')]
    assert '<span class="na" title="no rows">n/a</span>' in head
    assert not re.search(r"\bnan\b", html, re.I)


def test_insufficient_groups_flagged(compare_html: str, compare_doc: dict[str, Any]) -> None:
    cell = compare_doc["cells"][0]
    inter = next(a for a in cell["metrics"]["attributes"] if a["intersection"])
    small = next(g for g in inter["groups"] if g["insufficient"])
    assert (small["group"], small["n"]) == ("Others x Male", 24)
    row = re.search(
        r'<tr class="insufficient">\s*<th scope="row">Others x Male <span class="badge '
        r'badge-small"[^>]*>insufficient</span></th>\s*<td class="num">24</td>',
        compare_html,
    )
    assert row is not None
    # its numbers are still shown (greyed), but it is not tested: n/a with the reason
    assert 'title="n=24 is below min_group_size=30: not tested">n/a</span>' in compare_html


def test_synthetic_banner(audit_doc: dict[str, Any], audit_html: str) -> None:
    assert 'id="synthetic"' not in audit_html
    doc = copy.deepcopy(audit_doc)
    doc["dataset"].update(name="synthfaces", synthetic=True)
    html = render_html(doc)
    assert '<section id="synthetic"' in html
    assert "This audit ran on synthetic data (synthfaces)" in html
    assert (
        html.index('id="verdict"') < html.index('id="synthetic"') < html.index('id="composition"')
    )


def test_synthetic_banner_in_compare(compare_doc: dict[str, Any], compare_html: str) -> None:
    assert 'id="synthetic"' not in compare_html
    doc = copy.deepcopy(compare_doc)
    doc["synthetic"] = {"utkface": False, "fairface": True}
    html = render_html(doc)
    assert "This comparison ran on synthetic data (fairface)." in html
    assert "Other fields in this result" not in html  # "synthetic" is a known key


@pytest.mark.parametrize(
    ("verdict", "text"), [("pass", "PASS"), ("fail", "FAIL"), ("inconclusive", "INCONCLUSIVE")]
)
def test_gate_verdict_by_text_and_colour(
    audit_doc: dict[str, Any], verdict: str, text: str
) -> None:
    doc = copy.deepcopy(audit_doc)
    doc["gate"] = {
        "verdict": verdict,
        "checks": [
            {
                "name": "race: error_rate difference",
                "value": 0.076,
                "threshold": 0.05,
                "passed": verdict == "pass",
            },
            {
                "name": "race x gender: error_rate difference",
                "value": None,
                "threshold": 0.1,
                "passed": None,
            },
        ],
    }
    html = render_html(doc)
    assert f'<div class="gate gate-{verdict}" role="status">' in html
    assert f"<strong>{text}</strong>" in html
    assert "no gate policy applied" not in html
    assert '<span class="status status-na">N/A</span>' in html


def test_unknown_keys_and_missing_sections_are_tolerated(audit_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(audit_doc)
    doc["calibration"] = {"kind": "isotonic", "target": {"race": "uniform"}}
    html = render_html(doc)
    assert "Other fields in this result (1)" in html
    assert "isotonic" in html
    bare = render_html({"schema_version": 1, "kind": "audit"})
    for section in AUDIT_SECTIONS:
        assert f'<section id="{section}"' in bare
    assert "The result records no composition." in bare
    bare_compare = render_html({"schema_version": 1, "kind": "compare"})
    assert '<section id="heatmaps"' in bare_compare


def _evaluated(n_classes: int) -> dict[str, Any]:
    """A metrics part produced by the real ``fairsuite.metrics.evaluate`` (small and quick)."""
    import numpy as np
    import pandas as pd

    from fairsuite.metrics import evaluate

    rng = np.random.default_rng(0)
    n = 900
    race = rng.choice(["Asian", "Black", SCRIPT], n, p=[0.55, 0.4, 0.05])
    gender = rng.choice(["Female", "Male"], n)
    y = rng.integers(0, n_classes, n)
    keep = rng.random(n) < np.where(race == "Black", 0.7, 0.9)
    pred = np.where(keep, y, (y + 1) % n_classes)
    result = evaluate(
        y,
        pred,
        sensitive_features=pd.DataFrame({"race": race, "gender": gender}),
        n_boot=40,
        min_group_size=50,
    )
    return json.loads(json.dumps(result.to_dict()))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_renders_real_evaluate_output(audit_doc: dict[str, Any], n_classes: int) -> None:
    doc = copy.deepcopy(audit_doc)
    doc["metrics"] = _evaluated(n_classes)
    html = render_html(doc)
    for section in AUDIT_SECTIONS:
        assert f'<section id="{section}"' in html
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the planted harder group comes out least accurate among the evaluable ones
    head = html[html.index('id="verdict"') : html.index('id="composition"')]
    assert re.search(r"<strong>Black( x (Female|Male))?</strong>", head)
    # the <script> group has 5% of 900 rows < 50: flagged, shown, not tested
    assert re.search(r"&lt;/script&gt;[^<]*<span class=\"badge badge-small\"", html)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    if n_classes == 3:
        assert '<section id="per-class"' in html
        assert "macro average" in html
        # multiclass groups report accuracy and error rate only: no empty TPR column
        groups = html[html.index('id="groups"') : html.index('id="intersection"')]
        assert ">Accuracy</th>" in groups and ">TPR</th>" not in groups
    else:
        assert 'id="per-class"' not in html


def test_multiclass_per_class_shown(audit_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(audit_doc)
    doc["metrics"]["task_type"] = "multiclass"
    doc["metrics"]["per_class"] = {
        "20-29": {"recall": {"value": 0.61, "ci_low": 0.55, "ci_high": 0.66, "reason": None}},
        "30-39": {
            "recall": {
                "value": None,
                "ci_low": None,
                "ci_high": None,
                "reason": "class absent from the test split",
            }
        },
    }
    html = render_html(doc)
    assert 'id="per-class"' in html  # an unknown shape is shown generically
    assert "20-29 / recall" in html and "61.0%" in html and "[55.0, 66.0]" in html
    assert 'title="class absent from the test split">n/a</span>' in html


# --------------------------------------------------------------------------- filters
def test_formatting_filters() -> None:
    assert _render.fmt_count(10954) == "10,954"
    assert _render.fmt_pct(0.82345) == "82.3%"
    assert _render.fmt_pct(0.82356, 2) == "82.36%"
    assert _render.fmt_pp(0.0762) == "7.6 pp"
    assert _render.fmt_num(0.5796, 2) == "0.58"
    assert _render.fmt_pvalue(0.0004) == "p<0.001"
    assert _render.fmt_pvalue(0.0304) == "p=0.030"
    metric = {"value": 0.823, "ci_low": 0.801, "ci_high": 0.845, "reason": None}
    assert _render.fmt_interval(metric) == "[80.1, 84.5]"
    assert _render.fmt_interval(metric, "num", 2) == "[0.80, 0.84]"
    assert str(_render.fmt_metric(metric)) == (
        '<span class="v">82.3%</span> <span class="ci">[80.1, 84.5]</span>'
    )
    assert str(_render.fmt_pct(None, reason="a<b")) == '<span class="na" title="a&lt;b">n/a</span>'
    assert "n/a" in str(_render.fmt_count(float("nan")))


# --------------------------------------------------------------------------- errors, writing
@pytest.mark.parametrize(
    ("result", "message"),
    [
        ([], _render._NOT_A_MAPPING.format(type="list")),
        ({"schema_version": 1, "kind": "sweep"}, _render._BAD_KIND.format(kind="sweep")),
        (
            {"schema_version": 3, "kind": "audit"},
            _render._BAD_SCHEMA.format(version=3, supported=[1, 2]),
        ),
    ],
)
def test_bad_documents_raise(result: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        render_html(result)


def test_write_report(tmp_path: Path, audit_doc: dict[str, Any], audit_html: str) -> None:
    out = write_report(audit_doc, tmp_path / "sub" / "report.html")
    assert out == tmp_path / "sub" / "report.html"
    assert out.read_text("utf-8") == audit_html


def test_write_report_leaves_no_partial_file(
    tmp_path: Path, audit_doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    target.write_text("previous report", "utf-8")
    # a failure while rendering: nothing is written
    with pytest.raises(InvalidInputError):
        write_report({"schema_version": 1, "kind": "nope"}, target)
    assert target.read_text("utf-8") == "previous report"

    # a failure while writing (the rename fails): the old file stays whole, no temp file is left
    def boom(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("fairsuite._io.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_report(audit_doc, target)
    assert target.read_text("utf-8") == "previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
