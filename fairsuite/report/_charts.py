"""Charts for the HTML report, drawn on explicit matplotlib figures and returned as SVG text.

No pyplot and no global state: every chart builds its own :class:`matplotlib.figure.Figure`,
renders it with the SVG backend under a local ``rc_context`` (fixed ``svg.hashsalt``, text kept
as text, no date) and returns the ``<svg>`` element, so the same data gives the same bytes.
matplotlib is imported inside the functions (importing :mod:`fairsuite` stays cheap).
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Sequence
from typing import Any

__all__ = ["composition_chart", "compare_composition_chart", "group_error_chart", "heatmap"]

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",
)
INK = "#1f2328"
MUTED = "#6e7781"
GRID = "#d8dee4"

_RC: Any = {  # matplotlib types rc keys as Literals; this table is checked at runtime
    "svg.fonttype": "none",
    "text.parse_math": False,  # group names are data: "$" must not start mathtext
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

_XML_HEAD = re.compile(r"\A.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=72, layout="constrained")


def _to_svg(fig: Any, salt: str) -> str:
    """Serialise ``fig`` as an inline ``<svg>`` element (no XML prolog, no metadata)."""
    import matplotlib

    buf = io.StringIO()
    rc = {**_RC, "svg.hashsalt": f"fairsuite-{salt}"}
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        # Text stays text (svg.fonttype none) and the browser draws it with its own fonts, so a
        # group name in a script DejaVu Sans lacks (CJK) only affects matplotlib's layout estimate.
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = _XML_HEAD.sub("", buf.getvalue(), count=1)
    text = _METADATA.sub("", text, count=1)
    return _prefix_ids(text, re.sub(r"[^A-Za-z0-9_-]+", "-", salt)).strip() + "\n"


_ID = re.compile(r'\bid="([^"]+)"')


def _prefix_ids(svg: str, prefix: str) -> str:
    """Prefix every id (and every reference to it) so several charts can share one page.

    matplotlib numbers its groups per figure (``axes_1``, ``line2d_1`` ...), which would repeat
    across the charts of a page.
    """
    ids = set(_ID.findall(svg))
    if not ids:
        return svg

    def ref(match: re.Match[str]) -> str:
        name = match.group(2)
        return f"{match.group(1)}{prefix}-{name}" if name in ids else match.group(0)

    svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    return re.sub(r'(url\(#|href="#)([^)"]+)', ref, svg)


def _rows_height(n_rows: int, *, per_row: float = 0.28, extra: float = 1.0) -> float:
    return max(1.8, extra + per_row * n_rows)


def _finite(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _as_float(value: Any) -> float | None:
    return float(value) if _finite(value) else None


def composition_chart(
    groups: Sequence[dict[str, Any]], classes: Sequence[str], *, title: str, salt: str
) -> str:
    """Horizontal bars of group size ``n``, split by the share of each class label.

    Parameters
    ----------
    groups : sequence of dict
        ``{"label": str, "n": int, "balance": {class: share}}``, drawn top to bottom.
    classes : sequence of str
        The class labels, in legend order.
    title, salt : str
        Chart title; a chart-unique string for the SVG ids.
    """
    import matplotlib

    with matplotlib.rc_context(_RC):
        fig = _figure(7.2, _rows_height(len(groups), extra=1.2))
        ax = fig.add_subplot()
        labels = [g["label"] for g in groups]
        ys = list(range(len(groups)))[::-1]
        left = [0.0] * len(groups)
        for ci, cls in enumerate(classes):
            widths = [
                float(g["n"]) * float((g.get("balance") or {}).get(cls) or 0.0) for g in groups
            ]
            ax.barh(ys, widths, left=left, height=0.7, color=PALETTE[ci % len(PALETTE)], label=cls)
            left = [a + b for a, b in zip(left, widths, strict=True)]
        for y, g in zip(ys, groups, strict=True):
            ax.text(
                float(g["n"]),
                y,
                f"  {int(g['n']):,}",
                va="center",
                ha="left",
                fontsize=8,
                color=INK,
            )
        ax.set_yticks(ys, labels)
        ax.set_xlabel("rows (n), split by label")
        ax.set_xlim(0, max([float(g["n"]) for g in groups] + [1.0]) * 1.15)
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title(title)
        if len(classes) <= 8:
            fig.legend(
                loc="outside upper right", frameon=False, fontsize=8, ncols=min(len(classes), 4)
            )
        return _to_svg(fig, salt)


def compare_composition_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    salt: str,
) -> str:
    """Grouped horizontal bars: each group's share of each dataset, datasets side by side."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        k = max(1, len(series))
        fig = _figure(7.2, _rows_height(len(labels), per_row=0.16 * k + 0.12, extra=1.2))
        ax = fig.add_subplot()
        height = 0.8 / k
        base = list(range(len(labels)))[::-1]
        for si, (name, shares) in enumerate(series):
            ys = [b + 0.4 - height * (si + 0.5) for b in base]
            vals = [(_as_float(s) or 0.0) * 100 for s in shares]
            ax.barh(ys, vals, height=height * 0.92, color=PALETTE[si % len(PALETTE)], label=name)
        ax.set_yticks(base, list(labels))
        ax.set_xlabel("share of the dataset (%)")
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title(title)
        fig.legend(loc="outside upper right", frameon=False, fontsize=8, ncols=min(k, 4))
        return _to_svg(fig, salt)


def group_error_chart(
    groups: Sequence[dict[str, Any]], *, overall: float | None, title: str, xlabel: str, salt: str
) -> str:
    """Per-group point estimates with interval bars; small groups drawn hollow and grey.

    Parameters
    ----------
    groups : sequence of dict
        ``{"label", "value", "ci_low", "ci_high", "insufficient"}`` (proportions), top to bottom.
        Groups without a value are listed with an "n/a" marker.
    overall : float or None
        The overall value, drawn as a dashed reference line.
    """
    import matplotlib

    with matplotlib.rc_context(_RC):
        fig = _figure(7.2, _rows_height(len(groups), extra=1.1))
        ax = fig.add_subplot()
        ys = list(range(len(groups)))[::-1]
        hi_all = [1.0]
        for y, g in zip(ys, groups, strict=True):
            value = _as_float(g.get("value"))
            lo, hi = _as_float(g.get("ci_low")), _as_float(g.get("ci_high"))
            if value is None:
                ax.text(0.0, y, " n/a", va="center", ha="left", fontsize=8, color=MUTED)
                continue
            v = value * 100
            small = bool(g.get("insufficient"))
            colour = MUTED if small else PALETTE[0]
            if lo is not None and hi is not None:
                lo_, hi_ = lo * 100, hi * 100
                ax.plot([lo_, hi_], [y, y], color=colour, linewidth=1.6, solid_capstyle="butt")
                ax.plot([lo_, lo_], [y - 0.18, y + 0.18], color=colour, linewidth=1.2)
                ax.plot([hi_, hi_], [y - 0.18, y + 0.18], color=colour, linewidth=1.2)
                hi_all.append(hi_)
            ax.plot(
                [v],
                [y],
                marker="o",
                markersize=5.5,
                color=colour,
                markerfacecolor="white" if small else colour,
                linestyle="none",
            )
            hi_all.append(v)
        if _finite(overall):
            ov = float(overall) * 100  # type: ignore[arg-type]
            ax.axvline(ov, color=PALETTE[5], linestyle="--", linewidth=1.0)
            ax.annotate(
                f"overall {ov:.1f}%",
                xy=(ov, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, 2),
                textcoords="offset points",
                ha="left",
                va="bottom",
                fontsize=8,
                color=PALETTE[5],
            )
            hi_all.append(ov)
        ax.set_yticks(ys, [g["label"] for g in groups])
        ax.set_ylim(-0.7, len(groups) - 0.3)
        ax.set_xlim(0, min(100.0, max(hi_all) * 1.12 + 1))
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title(title, pad=14)
        return _to_svg(fig, salt)


def heatmap(
    values: Sequence[Sequence[float | None]],
    annotations: Sequence[Sequence[str]],
    *,
    rows: Sequence[str],
    cols: Sequence[str],
    title: str,
    colorbar_label: str,
    cmap: str,
    vmin: float,
    vmax: float,
    salt: str,
) -> str:
    """An annotated N x N heat map (rows = trained on, columns = tested on)."""
    import matplotlib
    import numpy as np

    with matplotlib.rc_context(_RC):
        n_r, n_c = len(rows), len(cols)
        fig = _figure(max(3.6, 1.5 * n_c + 2.2), max(2.6, 0.95 * n_r + 1.5))
        ax = fig.add_subplot()
        data = np.asarray(
            [[float(v) if v is not None and _finite(v) else np.nan for v in row] for row in values],
            dtype=np.float64,
        )
        colormap = matplotlib.colormaps[cmap].with_extremes(bad="#eeeeee")
        # vector cells (pcolormesh), not a raster image: crisp, small, and no embedded PNG
        im = ax.pcolormesh(
            np.arange(n_c + 1) - 0.5,
            np.arange(n_r + 1) - 0.5,
            np.ma.masked_invalid(data),
            cmap=colormap,
            vmin=vmin,
            vmax=vmax,
            edgecolors="white",
            linewidth=2,
        )
        ax.set_xlim(-0.5, n_c - 0.5)
        ax.set_ylim(n_r - 0.5, -0.5)
        norm = im.norm
        for i in range(n_r):
            for j in range(n_c):
                v = data[i, j]
                if np.isnan(v):
                    colour = INK
                else:
                    r, g, b, _ = colormap(norm(v))
                    colour = "white" if (0.299 * r + 0.587 * g + 0.114 * b) < 0.55 else INK
                ax.text(
                    j, i, annotations[i][j], ha="center", va="center", fontsize=9.5, color=colour
                )
        ax.set_xticks(range(n_c), list(cols))
        ax.set_yticks(range(n_r), list(rows))
        ax.set_xlabel("tested on")
        ax.set_ylabel("trained on")
        ax.xaxis.set_label_position("top")
        ax.xaxis.tick_top()
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.tick_params(length=0)
        cbar = fig.colorbar(im, ax=ax, shrink=0.85)
        if cbar.solids is not None:
            cbar.solids.set_rasterized(False)  # keep the SVG free of embedded PNGs
            cbar.solids.set_edgecolor("face")  # no hairline gaps between the vector steps
        cbar.set_label(colorbar_label)
        cbar.outline.set_visible(False)
        ax.set_title(title, pad=24)
        return _to_svg(fig, salt)
