"""`fairsuite datasets list` and `fairsuite datasets info`: output, JSON, errors and exit codes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fairsuite.cli import cli, main
from fairsuite.exceptions import ExitCode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from _data_fakes import FAIRFACE_TRAIN, write_fairface, write_utkface  # noqa: E402


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    """An empty data root in a temporary directory."""
    root = tmp_path / "data"
    root.mkdir()
    return root


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code), out, err


@pytest.mark.parametrize(
    "cmd",
    [
        ["datasets", "list"],
        ["datasets", "info"],
        ["datasets", "download"],
        ["datasets", "import"],
        ["datasets", "verify"],
    ],
)
def test_help_has_summary_and_example(cmd: list[str]) -> None:
    result = CliRunner().invoke(cli, [*cmd, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout
    assert f"fairsuite {' '.join(cmd)}" in result.stdout


def test_list_shows_found_and_missing(
    data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["datasets", "list", "--data-dir", str(data_root)], capsys)
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert set(lines) == {"adult", "compas", "fairface", "synthfaces", "utkface"}
    assert "found" in lines["fairface"] and "CC BY 4.0" in lines["fairface"]
    assert "embedded" in lines["synthfaces"]
    assert out.splitlines()[0].split() == ["name", "kind", "status", "get", "licence"]
    assert lines["adult"].split()[3] == "download" and lines["fairface"].split()[3] == "import"
    assert f"data root: {data_root}" in err
    code, out, _ = run(["datasets", "list", "--data-dir", str(tmp_path), "--json"], capsys)
    doc = json.loads(out)
    assert {d["name"]: d["status"] for d in doc["datasets"]}["adult"] == "missing"
    assert {d["name"]: d["get"] for d in doc["datasets"]} == {
        "adult": "download",
        "compas": "download",
        "fairface": "import",
        "synthfaces": "embedded",
        "utkface": "import",
    }


def test_info_fairface_all_labelled_faces(
    data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["datasets", "info", "fairface", "--data-dir", str(data_root)], capsys)
    assert code == 0, err
    assert "rows: 97,698 (test 10,954, train 86,744)" in out
    assert (
        "images: 11,400 of 97,698 listed are present on disk (not decoded; run "
        "`fairsuite datasets verify fairface --deep`)" in out
    )
    assert "race x gender x age_group" in out
    code, out, err = run(
        ["datasets", "info", "fairface", "--data-dir", str(data_root), "--json"], capsys
    )
    assert code == 0
    doc = json.loads(out)  # exactly one JSON document on stdout
    assert doc["n"] == 97_698
    assert doc["images"] == {"listed": 97_698, "present": 11_400, "decoded": False}
    assert doc["attributes"]["race"]["groups"]["White"]["n"] == 8701 + 7826 + 1122 + 963
    assert doc["load_report"]["rows_read"] == 97_698
    assert "loading fairface" in err


def test_info_synthfaces_needs_no_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setenv("FAIRSUITE_DATA", str(tmp_path / "no-data-here"))
    code, out, err = run(["datasets", "info", "synthfaces"], capsys)
    assert code == 0, err
    assert "SYNTHETIC" in out
    assert "rows: 5,000 (test 1,000, train 4,000)" in out
    code, out, _ = run(["datasets", "info", "synthfaces", "--json"], capsys)
    doc = json.loads(out)
    assert doc["synthetic"] is True
    assert doc["attributes"]["skin_tone"]["groups"]["dark"]["n"] == 250


def test_info_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "age,sex,hired\n" + "".join(f"{20 + i},{'FM'[i % 2]},{i % 3 == 0:d}\n" for i in range(40))
    )
    code, out, err = run(
        [
            "datasets",
            "info",
            str(path),
            "--target",
            "hired",
            "--sensitive",
            "sex",
            "--positive-label",
            "1",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["n"] == 40 and doc["classes"] == ["0", "1"]
    assert doc["attributes"]["sex"]["groups"]["F"]["n"] == 20


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if not line.startswith("loading ")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_bad_data_exits_3_with_one_line(
    fake_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [*FAIRFACE_TRAIN[:2], ("train/3.jpg", "20-29", "Female", "Martian", "True")]
    write_fairface(fake_root, train=rows)
    code, out, err = run(["datasets", "info", "fairface", "--data-dir", str(fake_root)], capsys)
    assert code == ExitCode.DATA == 3
    assert out == ""
    line = _one_line_error(err)
    assert "row 4, column 'race': unknown value 'Martian'; allowed:" in line


def test_missing_data_root_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["datasets", "info", "adult", "--data-dir", str(tmp_path / "nope")], capsys)
    assert code == 3
    line = _one_line_error(err)
    assert f"data root {tmp_path / 'nope'} does not exist" in line and "archive.ics.uci.edu" in line


def test_missing_dataset_folder_exits_3(
    fake_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["datasets", "info", "utkface", "--data-dir", str(fake_root)], capsys)
    assert code == 3
    assert "dataset folder" in _one_line_error(err) and "susanqq.github.io/UTKFace" in err


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        ["--debug", "datasets", "info", "adult", "--data-dir", str(tmp_path / "nope")], capsys
    )
    assert code == 3
    assert "Traceback" in err


def test_utkface_malformed_names_reported_on_stderr(
    fake_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_utkface(
        fake_root, ["25_0_0_1.jpg.chip.jpg", "5_1_1_2.jpg.chip.jpg", "39_1_3.jpg.chip.jpg"]
    )
    code, out, err = run(["datasets", "info", "utkface", "--data-dir", str(fake_root)], capsys)
    assert code == 0, err
    assert "dropped 1 rows: malformed file name (first: 39_1_3.jpg.chip.jpg)" in err
    assert "rows: 2" in out


def test_allow_missing_reports_counts(fake_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_fairface(fake_root)
    (folder / "train" / "1.jpg").unlink()
    code, out, err = run(
        ["datasets", "info", "fairface", "--data-dir", str(fake_root), "--json"], capsys
    )
    assert code == 0  # info reads the labels: composition of all rows, images counted
    assert json.loads(out)["images"] == {"listed": 6, "present": 5, "decoded": False}


def test_csv_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "people.csv"
    path.write_text("age,sex,hired\n30,F,1\n40,F,0\n")
    code, _, err = run(
        ["datasets", "info", str(path), "--target", "outcome", "--sensitive", "sex"], capsys
    )
    assert code == 3
    assert (
        "target column 'outcome' does not exist; columns are ['age', 'sex', 'hired']"
        in _one_line_error(err)
    )
    code, _, err = run(
        ["datasets", "info", str(path), "--target", "hired", "--sensitive", "sex"], capsys
    )
    assert code == 3
    assert "sensitive attribute 'sex' has a single group ('F')" in _one_line_error(err)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = run(
        ["datasets", "info", str(empty), "--target", "a", "--sensitive", "b"], capsys
    )
    assert code == 3
    assert "is empty" in _one_line_error(err)


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["datasets", "info", "celeba"], capsys)
    assert code == ExitCode.USAGE == 2
    assert "unknown dataset 'celeba'; known: adult, compas, fairface, synthfaces, utkface" in err
    path = tmp_path / "people.csv"
    path.write_text("a,b\n1,2\n")
    code, _, err = run(["datasets", "info", str(path)], capsys)
    assert code == 2
    assert "pass --target COLUMN and at least one --sensitive COLUMN" in err
    code, _, err = run(["datasets", "info", "adult", "--sensitive", "sex"], capsys)
    assert code == 2
    code, _, err = run(["datasets", "info", "adult", "--target", "race"], capsys)
    assert code == 2
    assert "dataset 'adult' has no task 'race'; allowed: income" in err


def test_cards_found_from_a_non_editable_install_layout(tmp_path: Path) -> None:
    """The cards are package data: found through importlib.resources, not the working directory."""
    import os
    import subprocess

    code = (
        "from fairsuite.data import list_datasets, get_card; "
        "print(list_datasets(), get_card('adult').license)"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    )
    assert "['adult', 'compas', 'fairface', 'synthfaces', 'utkface'] CC BY 4.0" in res.stdout


# --- download / import / verify -------------------------------------------------------------


@pytest.fixture
def mirror_url(data_root: Path):  # noqa: ANN201
    """The real shared data served on 127.0.0.1 (see tests/data/test_fetch.py)."""
    from test_fetch import MirrorServer

    with MirrorServer(data_root) as server:
        yield server


def test_download_through_mirror_json(mirror_url, tmp_path: Path) -> None:  # noqa: ANN001
    result = CliRunner().invoke(
        cli,
        [
            "datasets",
            "download",
            "adult",
            "--data-dir",
            str(tmp_path),
            "--mirror",
            mirror_url.url,
            "--json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    files = doc["datasets"][0]["files"]
    assert [f["status"] for f in files] == ["downloaded"] * 3
    assert files[0]["sha256"] == "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d"
    assert "downloading adult into" in result.stderr
    table = CliRunner().invoke(
        cli,
        ["datasets", "download", "adult", "--data-dir", str(tmp_path), "--mirror", mirror_url.url],
    )
    assert table.exit_code == 0
    assert table.stdout.splitlines()[2].split()[:3] == ["adult", "adult.data", "present"]


def test_download_errors_exit_3_with_one_line(
    mirror_url,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],  # noqa: ANN001
) -> None:
    mirror_url.corrupt.add("/compas/compas-scores-two-years.csv")
    code, out, err = run(
        ["datasets", "download", "compas", "--data-dir", str(tmp_path), "--mirror", mirror_url.url],
        capsys,
    )
    assert code == ExitCode.DATA and out == ""
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "nothing was kept" in lines[0]
    assert not (tmp_path / "compas" / "compas-scores-two-years.csv").exists()
    from test_fetch import closed_port_url

    url = closed_port_url()
    code, out, err = run(
        ["datasets", "download", "adult", "--data-dir", str(tmp_path), "--mirror", url], capsys
    )
    assert code == ExitCode.DATA
    assert f"Error: cannot download {url}/adult/adult.data (" in err
    assert "get it by hand: Run `fairsuite datasets download adult`, or download" in err


def test_download_of_a_browser_only_dataset_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["datasets", "download", "utkface", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == ExitCode.USAGE
    assert "utkface cannot be downloaded by fairsuite (its host needs a browser)" in result.stderr
    result = CliRunner().invoke(cli, ["datasets", "download", "nope"])
    assert result.exit_code == ExitCode.USAGE and "unknown dataset 'nope'" in result.stderr


def test_import_and_verify(data_root: Path, tmp_path: Path) -> None:
    import tarfile

    names = sorted(os.listdir(data_root / "utkface" / "UTKFace"))[::300]
    archive = tmp_path / "UTKFace.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for n in names:
            tf.add(data_root / "utkface" / "UTKFace" / n, f"UTKFace/{n}")
        tf.add(data_root / "utkface" / "images_present.csv", "UTKFace/images_present.csv")
    root = tmp_path / "data"
    result = CliRunner().invoke(
        cli,
        ["datasets", "import", "utkface", str(archive), "--data-dir", str(root)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    assert f"placed {len(names)} file(s) in {root / 'utkface'}" in result.stdout
    assert "not part of the dataset's layout" in result.stdout
    assert "next: fairsuite datasets verify utkface" in result.stderr
    again = CliRunner().invoke(
        cli, ["datasets", "import", "utkface", str(archive), "--data-dir", str(root), "--json"]
    )
    doc = json.loads(again.stdout)
    assert doc["n_placed"] == 0 and doc["skipped"][
        "already in the dataset folder (pass --force to replace)"
    ]["n"] == len(names)
    verify = CliRunner().invoke(cli, ["datasets", "verify", "utkface", "--data-dir", str(root)])
    assert verify.exit_code == ExitCode.DATA
    assert f"incomplete: {len(names)} of 23,708 published images present" in verify.stdout
    assert "--allow-missing" in verify.stderr
    ok = CliRunner().invoke(
        cli,
        [
            "datasets",
            "verify",
            "utkface",
            "--data-dir",
            str(root),
            "--allow-missing",
            "--deep",
            "--json",
        ],
    )
    assert ok.exit_code == 0
    assert json.loads(ok.stdout)["status"] == "partial"


def test_import_of_a_hostile_zip_exits_3(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../evil", b"owned")
    result = CliRunner().invoke(
        cli, ["datasets", "import", "fairface", str(archive), "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == ExitCode.DATA
    assert f"Error: refused {archive}: member '../evil'" in result.stderr
    assert not (tmp_path / "evil").exists()
    missing = CliRunner().invoke(cli, ["datasets", "import", "fairface", str(tmp_path / "no.zip")])
    assert missing.exit_code == ExitCode.USAGE  # click checks the path exists


def test_verify_real_data(data_root: Path) -> None:
    result = CliRunner().invoke(
        cli, ["datasets", "verify", "fairface", "--data-dir", str(data_root)]
    )
    assert result.exit_code == ExitCode.DATA
    first = result.stdout.splitlines()[0]
    assert first.startswith("fairface: incomplete: 11,400 of 97,698 listed images present")
    assert "label files match the card's checksums" in first
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[4:8]}
    assert rows["fairface_label_train.csv"].split()[2] == "ok"
    assert "6,400 of 86,744 listed" in rows["train/"]
    ok = CliRunner().invoke(
        cli,
        [
            "datasets",
            "verify",
            "fairface",
            "--data-dir",
            str(data_root),
            "--allow-missing",
            "--json",
        ],
    )
    assert ok.exit_code == 0
    doc = json.loads(ok.stdout)
    assert doc["status"] == "partial" and doc["images_present"] == 11_400
    adult = CliRunner().invoke(cli, ["datasets", "verify", "adult", "--data-dir", str(data_root)])
    assert adult.exit_code == 0 and adult.stdout.startswith("adult: complete")
    synth = CliRunner().invoke(cli, ["datasets", "verify", "synthfaces"])
    assert synth.exit_code == ExitCode.USAGE


def test_verify_deep_lists_the_corrupt_image(tmp_path: Path) -> None:
    folder = write_fairface(tmp_path)
    data = (folder / "train" / "1.jpg").read_bytes()
    (folder / "train" / "3.jpg").write_bytes(data[: len(data) // 2])
    result = CliRunner().invoke(
        cli, ["datasets", "verify", "fairface", "--data-dir", str(tmp_path), "--deep"]
    )
    assert result.exit_code == ExitCode.DATA
    assert "corrupt images (1):" in result.stdout
    assert "  train/3.jpg  " in result.stdout
