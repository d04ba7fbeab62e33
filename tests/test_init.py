"""The example budget files: shipped as package data, identical to configs/, written out by `scaleplan init`."""

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaleplan.cli.app import app
from scaleplan.core.errors import ScaleplanError
from scaleplan.pipeline.budget import load_budget_file
from scaleplan.schema import examples

REPO = Path(__file__).resolve().parents[1]
TOP = REPO / "configs"
PACKAGED = REPO / "scaleplan" / "data" / "configs"
runner = CliRunner()


def test_packaged_examples_are_the_top_level_configs():
    top = {p.name: p.read_bytes() for p in TOP.glob("*.yaml")}
    packaged = {p.name: p.read_bytes() for p in PACKAGED.glob("*.yaml")}
    assert len(top) >= 5
    assert packaged == top, "copy configs/*.yaml to scaleplan/data/configs/ (the package ships those)"
    top_data = {p.name: p.read_bytes() for p in [*TOP.glob("*.csv"), *TOP.glob("*.md")]}
    # the README's training log and runs file, with the note on their sources
    assert {"example-train-log.csv", "sample-runs.csv", "SOURCES.md"} <= set(top_data)
    assert top_data == {p.name: p.read_bytes() for p in [*PACKAGED.glob("*.csv"), *PACKAGED.glob("*.md")]}
    top_laws = {p.name: p.read_bytes() for p in (TOP / "laws").glob("*.yaml")}
    assert top_laws and top_laws == {p.name: p.read_bytes() for p in (PACKAGED / "laws").glob("*.yaml")}
    assert examples.example_names() == sorted(Path(n).stem for n in top)


def test_pyproject_ships_the_examples_license_and_py_typed():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = meta["tool"]["setuptools"]["package-data"]["scaleplan"]
    assert "data/configs/*.yaml" in globs and "py.typed" in globs and "data/*.yaml" in globs
    assert "data/configs/*.csv" in globs and "data/configs/*.md" in globs
    assert (REPO / "scaleplan" / "py.typed").exists()
    assert meta["project"]["license"] == "MIT" and (REPO / "LICENSE").read_text().startswith("MIT License")
    assert "Typing :: Typed" in meta["project"]["classifiers"]
    assert not any(c.startswith("License ::") for c in meta["project"]["classifiers"])  # SPDX string instead
    assert meta["build-system"]["requires"] == ["setuptools>=77"]


def test_init_writes_every_example_and_they_plan(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    written = sorted((tmp_path / "configs").glob("*.yaml"))
    assert [p.name for p in written] == sorted(p.name for p in TOP.glob("*.yaml"))
    for path in written:
        assert path.read_bytes() == (TOP / path.name).read_bytes()
        assert load_budget_file(path)  # each is a valid budget file
    assert "wrote 8 examples, 1 law file and 2 data files with their sources to configs" in result.stderr
    # the README's examples run from what init wrote
    assert runner.invoke(app, ["plan", "configs/academic-1e21.yaml", "-f", "json"]).exit_code == 0
    assert runner.invoke(app, ["curve", "fit", "configs/example-train-log.csv", "-f", "json"]).exit_code == 0
    assert runner.invoke(app, ["fit", "configs/sample-runs.csv", "-f", "json"]).exit_code == 0
    assert (tmp_path / "configs" / "SOURCES.md").read_bytes() == (TOP / "SOURCES.md").read_bytes()


def test_init_never_overwrites_without_force(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "academic-1e21.yaml").write_text("flops: 1e20\n")
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 2 and "refusing to overwrite" in result.stderr and "--force" in result.stderr
    assert (target / "academic-1e21.yaml").read_text() == "flops: 1e20\n"
    assert list(target.iterdir()) == [target / "academic-1e21.yaml"]  # nothing else written either
    result = runner.invoke(app, ["init", str(target), "--force", "--example", "academic-1e21"])
    assert result.exit_code == 0
    assert (target / "academic-1e21.yaml").read_bytes() == (TOP / "academic-1e21.yaml").read_bytes()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--example", "acadmic"], "did you mean 'academic-1e21'"),
        (["no/such/parent/dir"], "does not exist"),
    ],
)
def test_init_bad_input_is_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", *args])
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "configs").exists()


def test_init_into_a_file_and_list(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(ScaleplanError, match="it is a file"):
        examples.write_examples(path)
    listed = runner.invoke(app, ["init", "--list"]).stdout.split()
    assert listed == examples.example_names()


@pytest.mark.parametrize(
    "error, text",
    [
        (PermissionError(13, "Permission denied"), "Permission denied"),
        (OSError(30, "Read-only file system"), "Read-only file system"),
        (FileNotFoundError(2, "No such file or directory"), "No such file or directory"),
    ],
)
def test_a_folder_that_cannot_be_created_is_one_error(tmp_path, monkeypatch, error, text):
    def refuse(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(ScaleplanError, match=f"cannot create folder {tmp_path / 'new'}: {text}"):
        examples.write_examples(tmp_path / "new")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_folder_and_no_file(tmp_path, monkeypatch):
    """The folder init created is removed again when the files cannot be written (a read-only or full disk)."""
    import os

    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(os, "link", refuse)  # staging works, putting the files in place fails
    with pytest.raises(ScaleplanError, match=r"cannot write .*Read-only file system"):
        examples.write_examples(tmp_path / "new")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "mine").mkdir()  # a folder the user made stays, empty as it was
    with pytest.raises(ScaleplanError, match="Read-only file system"):
        examples.write_examples(tmp_path / "mine")
    assert [p.name for p in tmp_path.iterdir()] == ["mine"] and list((tmp_path / "mine").iterdir()) == []


def test_sample_runs_are_what_their_generator_writes():
    """configs/sample-runs.csv (shipped for `scaleplan fit` from a package install) is tools/sample_runs.py's output:
    synthetic runs from Besiroglu et al. 2024's Table 1 law (E 1.8172, A 482.01, B 2085.43, alpha 0.3478, beta
    0.3658) with 1% log-normal noise, seed 0, as configs/SOURCES.md says."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sample_runs", REPO / "tools" / "sample_runs.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert (tool.E, tool.A, tool.B, tool.ALPHA, tool.BETA) == (1.8172, 482.01, 2085.43, 0.3478, 0.3658)
    assert (TOP / "sample-runs.csv").read_text() == "\n".join(tool.rows()) + "\n"
    assert "Table 1: E 1.8172, A 482.01, B 2085.43, alpha 0.3478, beta" in (TOP / "SOURCES.md").read_text()
