"""``fairsuite datasets``: list, describe, download, import and verify datasets."""

from __future__ import annotations

from typing import Any

import click

from fairsuite.cli._common import (
    _NAMED_NO_CSV_OPTIONS,
    CONTEXT_SETTINGS,
    EXIT_CODES_HELP,
    data_dir_option,
    dataset_options,
    echo_err,
    json_option,
    seed_option,
)
from fairsuite.exceptions import ExitCode

__all__ = ["datasets"]


@click.group(context_settings=CONTEXT_SETTINGS)
def datasets() -> None:
    """List, describe, download, import and verify datasets."""


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
    """List the datasets fairsuite knows, whether each is under the data root, how to get it.

    The "get" column says how: `download` (fairsuite datasets download NAME), `import` (the
    host needs a browser: download by hand, then fairsuite datasets import NAME ARCHIVE...) or
    `embedded` (generated, nothing to get).

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
                "get": card.acquire,
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
            [
                [str(r["name"]), str(r["kind"]), str(r["status"]), str(r["get"]), str(r["license"])]
                for r in rows
            ],
            ["name", "kind", "status", "get", "licence"],
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
        lines.append(
            f"images: {im['present']:,} of {im['listed']:,} listed are present on disk "
            f"(not decoded; run `fairsuite datasets verify {comp['dataset']} --deep`)"
        )
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
    from fairsuite.data import dataset_info, is_table_path

    if not is_table_path(source) and (sensitive or positive_label is not None):
        raise click.UsageError(_NAMED_NO_CSV_OPTIONS.format(name=source))
    echo_err(f"loading {source} ...")
    info = dataset_info(
        source,
        data_dir=data_dir,
        target=target,
        sensitive=sensitive,
        positive_label=positive_label,
        allow_missing=allow_missing,
        seed=seed,
    )
    report = info.get("load_report") or {}
    for reason, n in (report.get("dropped") or {}).items():
        first = ", ".join((report.get("examples") or {}).get(reason, []))
        echo_err(f"dropped {n:,} rows: {reason}" + (f" (first: {first})" if first else ""))
    for reason, n in (report.get("recoded") or {}).items():
        echo_err(f"recoded {n:,} values: {reason}")
    for note in report.get("notes") or []:
        echo_err(f"note: {note}")
    if as_json:
        click.echo(dumps_json(info))
    else:
        click.echo(_render(info))


def _known_name(name: str) -> Any:
    from fairsuite.data import get_card, list_datasets

    known = list_datasets()
    if name not in known:
        raise click.BadParameter(
            f"unknown dataset {name!r}; known: {', '.join(known)}", param_hint="NAME"
        )
    return get_card(name)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)  # pragma: no cover


@datasets.command("download", context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@data_dir_option
@click.option(
    "--mirror",
    default=None,
    metavar="URL",
    help="Base URL of a server laid out like a data root (URL/adult/adult.data) to fetch from "
    "instead of the card's URLs. Default: $FAIRSUITE_MIRROR.",
)
@click.option(
    "--force", is_flag=True, help="Replace existing files whose checksum differs from the card."
)
@json_option
def download_command(
    names: tuple[str, ...], data_dir: str | None, mirror: str | None, force: bool, as_json: bool
) -> None:
    """Download datasets with stable public URLs (adult, compas), checked against the card.

    Each file is streamed to a temporary file in <data root>/NAME/ (progress on stderr),
    resumed with an HTTP Range request if the transfer breaks, checked against the sha256 in
    datasets/NAME.yaml and only then moved into place. A checksum mismatch keeps nothing. Files
    already present with the right checksum are not fetched again. FairFace and UTKFace are
    hosted where a browser is needed: download them by hand and use `fairsuite datasets import`.

    \b
    Example:
        fairsuite datasets download adult compas --data-dir ~/data
        fairsuite datasets download adult --mirror https://mirror.example.org/fairsuite
    """
    from fairsuite._io import dumps_json
    from fairsuite._paths import resolve_data_dir
    from fairsuite.data import download

    for name in names:
        card = _known_name(name)
        if card.acquire != "download":
            raise click.BadParameter(
                f"{name} cannot be downloaded by fairsuite ("
                + ("it is generated on first use" if card.synthetic else "its host needs a browser")
                + f"); {card.get_data}",
                param_hint="NAME",
            )
    results = []
    for name in dict.fromkeys(names):
        echo_err(f"downloading {name} into {resolve_data_dir(data_dir) / name} ...")
        results.append(download(name, data_dir=data_dir, mirror=mirror, force=force))
    if as_json:
        click.echo(dumps_json({"datasets": [r.to_dict() for r in results]}))
        return
    rows = [
        [r.dataset, f.path.name, f.status, _size(f.size), f.sha256[:16]]
        for r in results
        for f in r.files
    ]
    click.echo(_table(rows, ["dataset", "file", "status", "size", "sha256"]))


@datasets.command("import", context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.argument("name", metavar="NAME")
@click.argument(
    "sources",
    nargs=-1,
    required=True,
    metavar="ARCHIVE_OR_FOLDER...",
    type=click.Path(exists=True, path_type=str),
)
@data_dir_option
@click.option("--force", is_flag=True, help="Replace files already in the dataset folder.")
@json_option
def import_command(
    name: str, sources: tuple[str, ...], data_dir: str | None, force: bool, as_json: bool
) -> None:
    """Place archives, folders and files you downloaded into the dataset's layout.

    Takes what the hosts hand out: FairFace's fairface-img-margin025-trainval.zip and its two
    label CSVs; UTKFace's UTKFace.tar.gz or its extracted folder (UTKFace/, crop_part1/, ...).
    Members go where datasets/NAME.yaml's layout wants them; everything else is skipped and
    counted with its reason. Nothing is written outside the data root: an archive with an
    absolute or '..' member, a link or a device file is refused and nothing is placed. Files
    are extracted into a temporary folder in the data root and moved into place at the end.

    \b
    Example:
        fairsuite datasets import fairface fairface-img-margin025-trainval.zip \\
            fairface_label_train.csv fairface_label_val.csv --data-dir ~/data
        fairsuite datasets import utkface UTKFace.tar.gz
        fairsuite datasets verify utkface
    """
    from fairsuite._io import dumps_json
    from fairsuite.data import import_archive

    card = _known_name(name)
    if card.synthetic:
        raise click.BadParameter(
            f"{name} is generated by fairsuite; there is nothing to import", param_hint="NAME"
        )
    echo_err(f"importing {len(sources)} source(s) into {name} ...")
    result = import_archive(name, list(sources), data_dir=data_dir, force=force)
    if as_json:
        click.echo(dumps_json(result.to_dict()))
        return
    echo_err(f"dataset folder: {result.folder}")
    rows = [[dest, f"{n:,}", result.checks.get(dest, "")] for dest, n in result.placed.items()]
    lines = [f"placed {result.n_placed:,} file(s) in {result.folder}"]
    if rows:
        lines.append(_table(rows, ["placed in", "files", "check"]))
    if result.skipped:
        lines.append("")
        lines.append(f"skipped {result.n_skipped:,} member(s):")
        lines.append(
            _table(
                [
                    [reason, f"{n:,}", ", ".join(result.examples.get(reason, [])[:2])]
                    for reason, n in result.skipped.items()
                ],
                ["reason", "n", "first"],
            )
        )
    click.echo("\n".join(lines))
    echo_err(
        f"next: fairsuite datasets verify {name}" + (f" --data-dir {data_dir}" if data_dir else "")
    )


@datasets.command("verify", context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.argument("name", metavar="NAME")
@data_dir_option
@click.option(
    "--deep", is_flag=True, help="Decode every present image and list those that fail (slower)."
)
@click.option(
    "--allow-missing",
    is_flag=True,
    help="Missing images are not a failure (exit 0) when the label files match and every "
    "present image is intact. For copies that hold only some images on purpose.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Threads decoding images with --deep. Default: the number of CPUs.",
)
@json_option
@click.pass_context
def verify_command(
    ctx: click.Context,
    name: str,
    data_dir: str | None,
    deep: bool,
    allow_missing: bool,
    workers: int | None,
    as_json: bool,
) -> None:
    """Check a dataset on disk against its card; exit 0 when complete, 3 otherwise.

    Label files are checked against the card's sha256; image folders are counted (listed by
    the labels, or in the published release, vs present on disk); --deep decodes every present
    image in parallel (progress on stderr) and lists the corrupt ones. The status is complete,
    partial (images missing, --allow-missing, everything present intact), incomplete or failed
    (a checksum differs or an image does not decode).

    \b
    Example:
        fairsuite datasets verify adult
        fairsuite datasets verify fairface --deep --data-dir ~/data
        fairsuite datasets verify utkface --allow-missing --json
    """
    from fairsuite._io import dumps_json
    from fairsuite.data import verify

    card = _known_name(name)
    if card.synthetic:
        raise click.BadParameter(
            f"{name} is generated by fairsuite on first use; there is nothing to verify",
            param_hint="NAME",
        )
    report = verify(
        name, data_dir=data_dir, deep=deep, allow_missing=allow_missing, workers=workers
    )
    if as_json:
        click.echo(dumps_json(report.to_dict()))
    else:
        click.echo(_render_verify(report))
    if not report.ok:
        if report.status == "incomplete" and not any(
            f.required and f.status == "missing" for f in report.files
        ):
            echo_err(
                "hint: if this copy holds only some images on purpose, --allow-missing makes "
                "verify pass when everything present is intact (add --deep to decode it)"
            )
        ctx.exit(int(ExitCode.DATA))


_MAX_CORRUPT_SHOWN = 20


def _render_verify(report: Any) -> str:
    lines = [f"{report.dataset}: {report.summary}", f"folder: {report.folder}", ""]
    rows = []
    for f in report.files:
        status = f.status if f.required or f.status != "missing" else "missing (optional)"
        rows.append([f.path, f.role, status, (f.sha256 or "")[:16]])
    for im in report.images:
        checked = "decoded" if im.decoded else "not decoded"
        source = "listed" if im.listed_from == "labels" else "published"
        status = f"{im.present:,} of {im.listed:,} {source}"
        if im.decoded:
            status += f", {len(im.corrupt):,} corrupt"
        rows.append([f"{im.folder}/", "images", status, checked])
    lines.append(_table(rows, ["file", "role", "status", "sha256 / check"]))
    for im in report.images:
        if im.missing_examples:
            lines.append(f"missing in {im.folder}/ (first): {', '.join(im.missing_examples)}")
        if im.unlisted:
            lines.append(f"{im.folder}/: {im.unlisted:,} image(s) on disk that no label lists")
    corrupt = report.corrupt
    if corrupt:
        lines.append("")
        lines.append(f"corrupt images ({len(corrupt):,}):")
        lines += [f"  {p}  {why}" for p, why in corrupt[:_MAX_CORRUPT_SHOWN]]
        if len(corrupt) > _MAX_CORRUPT_SHOWN:
            lines.append(f"  ... and {len(corrupt) - _MAX_CORRUPT_SHOWN:,} more (--json lists all)")
    return "\n".join(lines)
