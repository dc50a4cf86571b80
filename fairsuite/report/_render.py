"""Render a result document (audit or compare) into one self-contained HTML file."""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairsuite._io import atomic_write_text
from fairsuite.exceptions import InvalidInputError

if TYPE_CHECKING:
    import jinja2

__all__ = ["render_html", "write_report"]

NA = "n/a"

_NOT_A_MAPPING = (
    "render_html: result must be a dict (an audit or compare result document), got {type}; "
    "pass the parsed result.json (json.load) or the dict that audit()/compare() returned"
)
_BAD_KIND = (
    "render_html: result['kind'] is {kind!r}; allowed values are 'audit', 'evaluate' and "
    "'compare'. Pass a result document written by `fairsuite audit`, `evaluate` or `compare`"
)
_BAD_SCHEMA = (
    "render_html: result['schema_version'] is {version!r}; this fairsuite renders schema "
    "version(s) {supported}. Re-run the audit with this fairsuite or upgrade fairsuite"
)
SUPPORTED_SCHEMA_VERSIONS = (1, 2)


# --------------------------------------------------------------------------- filters
def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def _na(reason: Any = None) -> Any:
    from markupsafe import Markup, escape

    if reason:
        return Markup('<span class="na" title="{}">n/a</span>').format(escape(str(reason)))
    return Markup('<span class="na" title="not available">n/a</span>')


def fmt_count(value: Any) -> Any:
    """An integer count with thousands separators (``10954`` -> ``10,954``)."""
    if _is_missing(value):
        return _na()
    return f"{int(value):,}"


def fmt_pct(value: Any, decimals: int = 1, reason: Any = None) -> Any:
    """A proportion as a percentage with fixed decimals (``0.8234`` -> ``82.3%``)."""
    if _is_missing(value):
        return _na(reason)
    return f"{float(value) * 100:.{decimals}f}%"


def fmt_pp(value: Any, decimals: int = 1, reason: Any = None) -> Any:
    """A difference of proportions in percentage points (``0.076`` -> ``7.6 pp``)."""
    if _is_missing(value):
        return _na(reason)
    return f"{float(value) * 100:.{decimals}f} pp"


def fmt_num(value: Any, decimals: int = 2, reason: Any = None) -> Any:
    """A plain number with fixed decimals (ratios, losses)."""
    if _is_missing(value):
        return _na(reason)
    return f"{float(value):.{decimals}f}"


def fmt_pvalue(value: Any) -> Any:
    """A p-value as ``p=0.030`` (three decimals), ``p<0.001`` below that."""
    if _is_missing(value):
        return _na("no test (group too small or metric undefined)")
    p = float(value)
    if p < 0.001:
        return "p<0.001"
    return f"p={p:.3f}"


def fmt_interval(metric: Any, kind: str = "pct", decimals: int = 1) -> str:
    """The interval of a metric dict as ``[a, b]`` (percent units for ``kind="pct"``/``"pp"``)."""
    if not isinstance(metric, dict):
        return ""
    lo: Any = metric.get("ci_low")
    hi: Any = metric.get("ci_high")
    if _is_missing(lo) or _is_missing(hi):
        return ""
    scale = 100.0 if kind in ("pct", "pp") else 1.0
    return f"[{float(lo) * scale:.{decimals}f}, {float(hi) * scale:.{decimals}f}]"


def fmt_metric(metric: Any, kind: str = "pct", decimals: int | None = None) -> Any:
    """A metric dict as value plus interval markup; n/a (reason in ``title``) when missing."""
    from markupsafe import Markup

    if not isinstance(metric, dict):
        return _na("not reported")
    value = metric.get("value")
    if _is_missing(value):
        return _na(metric.get("reason") or "not reported")
    if kind == "pct":
        text = fmt_pct(value, 1 if decimals is None else decimals)
    elif kind == "pp":
        text = fmt_pp(value, 1 if decimals is None else decimals)
    else:
        text = fmt_num(value, 2 if decimals is None else decimals)
    ci = fmt_interval(metric, kind, 1 if decimals is None and kind != "num" else decimals or 2)
    if not ci:
        return Markup('<span class="v">{}</span>').format(text)
    return Markup('<span class="v">{}</span> <span class="ci">{}</span>').format(text, ci)


FILTERS = {
    "count": fmt_count,
    "pct": fmt_pct,
    "pp": fmt_pp,
    "num": fmt_num,
    "pvalue": fmt_pvalue,
    "interval": fmt_interval,
    "metric": fmt_metric,
    "na": _na,
}


# --------------------------------------------------------------------------- environment
@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fairsuite", "report/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def _template(name: str) -> jinja2.Template:
    """The only way templates are fetched."""
    return _environment().get_template(name)


def _check(result: Any) -> str:
    if not isinstance(result, dict):
        raise InvalidInputError(_NOT_A_MAPPING.format(type=type(result).__name__))
    kind = result.get("kind")
    if kind not in ("audit", "evaluate", "compare"):
        raise InvalidInputError(_BAD_KIND.format(kind=kind))
    version = result.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise InvalidInputError(
            _BAD_SCHEMA.format(version=version, supported=list(SUPPORTED_SCHEMA_VERSIONS))
        )
    return str(kind)


def render_html(result: dict[str, Any]) -> str:
    """Render an audit or compare result document as one self-contained HTML page.

    Parameters
    ----------
    result : dict
        A result document (``schema_version`` 1 or 2) as written to ``result.json`` by
        ``fairsuite audit`` (``kind="audit"``), ``fairsuite evaluate`` (``kind="evaluate"``,
        the audit layout without training) or ``fairsuite compare`` (``kind="compare"``).
        Unknown extra keys are listed in the page but otherwise ignored. Not modified.

    Returns
    -------
    str
        The HTML page. CSS and charts (SVG) are inline; there are no remote assets and no face
        images. The same document gives the same string, byte for byte.

    Raises
    ------
    InvalidInputError
        If ``result`` is not a dict, its ``kind`` is neither ``"audit"`` nor ``"compare"``, or
        its ``schema_version`` is not supported.
    """
    from fairsuite.report._context import build_context

    kind = _check(result)
    context = build_context(result)
    return _template("compare.html" if kind == "compare" else "audit.html").render(**context)


def write_report(result: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Render ``result`` (see :func:`render_html`) and write it to ``path`` atomically.

    The page is rendered completely before anything is written; the file is written to a
    temporary file beside ``path`` and renamed, so ``path`` never holds a partial report.

    Parameters
    ----------
    result : dict
        An audit or compare result document.
    path : str or os.PathLike
        Where to write the HTML file; missing parent folders are created.

    Returns
    -------
    pathlib.Path
        ``path`` as a :class:`~pathlib.Path`.
    """
    html = render_html(result)
    return atomic_write_text(path, html)
