"""``fairsuite datasets``: list the known datasets and describe one's composition."""

from __future__ import annotations

from typing import Any

import click

from fairsuite.cli._common import (
    CONTEXT_SETTINGS,
    data_dir_option,
    dataset_options,
    echo_err,
    json_option,
    load_from_options,
    seed_option,
)

__all__ = ["datasets"]


@click.group(context_settings=CONTEXT_SETTINGS)
def datasets() -> None:
    """List datasets and show their composition."""


def _status(card: Any, root: Any) -> str:
    if card.synthetic:
        return "embedded (generated)"
    folder = root / card.name
    if not folder.is_dir():
        return "missing"
    absent = [f.path for f in card.files if f.required and not (folder / f.path).exists()]
    return "found" if not absent else f"incomplete (no {', '.join(absent)})"


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*header).rstrip(), "  ".join("-" * w for w in widths)]
    out += [line.format(*map(str, r)).rstrip() for r in rows]
    return "\n".join(out)


@datasets.command("list", context_settings=CONTEXT_SETTINGS)
@data_dir_option
@json_option
def list_command(data_dir: str | None, as_json: bool) -> None:
    """List the datasets fairsuite knows and whether each is under the data root.

    \b
    Example:
        fairsuite datasets list --data-dir ~/data
    """
    from fairsuite._io import dumps_json
    from fairsuite._paths import resolve_data_dir
    from fairsuite.data import get_card, list_datasets

    root = resolve_data_dir(data_dir)
    rows = []
    for name in list_datasets():
        card = get_card(name)
        rows.append(
            {
                "name": name,
                "kind": card.kind,
                "status": _status(card, root),
                "license": card.license,
                "path": str(root / name) if not card.synthetic else None,
            }
        )
    if as_json:
        click.echo(dumps_json({"data_root": str(root), "datasets": rows}))
        return
    echo_err(f"data root: {root}")
    click.echo(
        _table(
            [[str(r["name"]), str(r["kind"]), str(r["status"]), str(r["license"])] for r in rows],
            ["name", "kind", "status", "licence"],
        )
    )


def _fmt_pct(x: float) -> str:
    return f"{100 * x:6.2f}%"


def _render(comp: dict[str, Any]) -> str:
    lines = [
        f"dataset: {comp['dataset']}"
        + ("  (SYNTHETIC: generated data)" if comp["synthetic"] else "")
    ]
    lines.append(f"task: {comp['task']}  classes: {', '.join(comp['classes'])}")
    splits = ", ".join(f"{k} {v:,}" for k, v in comp["splits"].items())
    lines.append(f"rows: {comp['n']:,} ({splits})")
    if comp["images"] is not None:
        im = comp["images"]
        lines.append(f"images: {im['present']:,} of {im['listed']:,} listed are present on disk")
    pos = comp["classes"][-1]
    for attr, info in comp["attributes"].items():
        lines.append("")
        lines.append(
            f"{attr}: imbalance ratio {info['imbalance_ratio']:.2f}, "
            f"normalised entropy {info['normalized_entropy']:.3f}"
        )
        rows = [
            [g, f"{d['n']:,}", _fmt_pct(d["share"]), _fmt_pct(d["label_balance"][pos])]
            for g, d in info["groups"].items()
        ]
        lines.append(_table(rows, ["group", "n", "share", f"{pos!s}"]))
    inter = comp["intersection"]
    lines.append("")
    lines.append(
        f"{' x '.join(inter['columns'])}: {len(inter['groups'])} cells, imbalance ratio "
        f"{inter['imbalance_ratio']:.2f}, normalised entropy {inter['normalized_entropy']:.3f}"
    )
    lines.append("smallest cells:")
    lines.append(
        _table(
            [[s["group"], f"{s['n']:,}", _fmt_pct(s["share"])] for s in inter["smallest"]],
            ["group", "n", "share"],
        )
    )
    return "\n".join(lines)


@datasets.command("info", context_settings=CONTEXT_SETTINGS)
@click.argument("source", metavar="NAME|PATH")
@dataset_options
@seed_option
@json_option
def info_command(
    source: str,
    data_dir: str | None,
    allow_missing: bool,
    target: str | None,
    sensitive: tuple[str, ...],
    positive_label: str | None,
    seed: int,
    as_json: bool,
) -> None:
    """Show a dataset's composition: splits, groups, label balance, images on disk.

    SOURCE is a dataset name (see `fairsuite datasets list`) or a CSV/Parquet file, which
    needs --target and --sensitive. Composition comes from the labels, so it works when only
    some images are present.

    \b
    Example:
        fairsuite datasets info synthfaces
        fairsuite datasets info fairface --data-dir ~/data --json
        fairsuite datasets info people.csv --target hired --sensitive sex --sensitive race
    """
    from fairsuite._io import dumps_json
    from fairsuite.data import composition

    echo_err(f"loading {source} ...")
    dataset = load_from_options(
        source,
        data_dir=data_dir,
        allow_missing=allow_missing,
        target=target,
        sensitive=sensitive,
        positive_label=positive_label,
        seed=seed,
        require_images=False,
    )
    report = dataset.report
    if report is not None:
        for reason, n in report.dropped.items():
            first = ", ".join(report.examples.get(reason, []))
            echo_err(f"dropped {n:,} rows: {reason}" + (f" (first: {first})" if first else ""))
        for reason, n in report.recoded.items():
            echo_err(f"recoded {n:,} values: {reason}")
        for note in report.notes:
            echo_err(f"note: {note}")
    comp = composition(dataset)
    if as_json:
        comp["load_report"] = report.to_dict() if report is not None else None
        comp["checksums"] = dict(dataset.checksums)
        click.echo(dumps_json(comp))
    else:
        click.echo(_render(comp))
