"""scaleplan under hostile input, second pass (issue 27): files that are not files, a cache that lies, fits of runs
that follow no law, ambiguous columns, outputs that are inputs, and library functions given the wrong types.

Every case runs in-process (typer's CliRunner) in a fresh folder; a failure is one line on stderr and exit 2, never a
traceback or a hang, and no file that existed before the command changes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import scaleplan
from scaleplan import ScaleplanError
from scaleplan.cli.app import app

runner = CliRunner()

LAW = (
    "name: mylaw\nform: parametric\nconstants: {E: 1.8, A: 480, B: 2100, alpha: 0.35, beta: 0.37}\n"
    "citation: {authors: Me, year: 2026, title: mine}\n"
)
GOOD_RUNS = "params,tokens,loss\n" + "".join(
    f"{n:.3g},{d:.3g},{1.8 + 400 / n**0.34 + 400 / d**0.28:.5f}\n" for n in (5e7, 1e8, 2e8, 4e8) for d in (2e9, 8e9)
)


def _runs(loss) -> str:
    sizes = [(n, d) for n in np.geomspace(2e7, 2e9, 6) for d in np.geomspace(1e9, 1e11, 6)]
    return "params,tokens,loss\n" + "".join(f"{n:.4g},{d:.4g},{loss(n, d, i):.5f}\n" for i, (n, d) in enumerate(sizes))


_NOISE = np.random.default_rng(0).uniform(2, 5, 36)
RUN_FILES = {
    # losses that are noise: the Huber fit runs off, variable projection pins exponents to its bounds
    "noise.csv": _runs(lambda n, d, i: _NOISE[i]),
    # loss rises with model size: alpha < 0 (Huber) or A = 0 (variable projection), no allocation
    "rising.csv": _runs(lambda n, d, i: 2 + n**0.1 / 100 + d**0.1 / 100),
    # loss does not depend on model size at all
    "flat-n.csv": _runs(lambda n, d, i: 2 + 1000 / d**0.3),
}
LOG = "step,lr,loss\n" + "".join(f"{s},3e-4,{3 + 1 / s**0.5:.5f}\n" for s in range(1, 200))
FLAT_LOG = "step,lr,loss\n" + "".join(f"{s},3e-4,3.0\n" for s in range(1, 200))


def _hardware() -> str:
    """A valid hardware file of one preset: the bundled H100's figures under a new name."""
    import yaml

    from scaleplan.core import _yaml

    entry = dict(_yaml.load((_yaml.DATA / "hardware.yaml").read_text(encoding="utf-8"))["h100"])
    entry["name"] = "My chip"
    entry.pop("aliases", None)
    return yaml.safe_dump({"mychip": entry}, sort_keys=False)


HARDWARE = _hardware()
FILES = {
    "budget.yaml": "flops: 1e21\n",
    "law.yaml": LAW,
    "runs.csv": GOOD_RUNS,
    "log.csv": LOG,
    "flat-log.csv": FLAT_LOG,
    "hw.yaml": HARDWARE,
    **RUN_FILES,
    "ambiguous.csv": "n,model_size,tokens,loss\n"
    + "".join(f"{i},{r}" for i, r in enumerate(GOOD_RUNS.splitlines(True)[1:])),
    "two-losses.csv": "params,tokens,val_loss,train_loss\n"
    + "".join(f"{r.strip()},{r.split(',')[2]}" for r in GOOD_RUNS.splitlines(True)[1:]),
    "same-name.csv": "params,tokens,loss,loss\n"
    + "".join(f"{r.strip()},{r.split(',')[2]}" for r in GOOD_RUNS.splitlines(True)[1:]),
    "semicolon.csv": GOOD_RUNS.replace(",", ";"),
}

# every option that reads a file, with the file given as NAME (and the suffix it needs)
FILE_OPTIONS = [
    (["plan", "NAME"], ".yaml"),
    (["allocate", "--flops", "1e21", "--law", "NAME"], ".yaml"),
    (["laws", "show", "NAME"], ".yaml"),
    (["fit", "NAME"], ".csv"),
    (["fit", "NAME"], ".json"),
    (["fit", "NAME"], ".yaml"),
    (["fit", "NAME"], ".jsonl"),
    (["curve", "fit", "NAME"], ".csv"),
    (["curve", "fit", "NAME"], ".json"),
    (["curve", "fit", "log.csv", "--lr-log", "NAME"], ".csv"),
    (["curve", "predict", "--law", "NAME"], ".yaml"),
    (["allocate", "--flops", "1e21", "--hardware-file", "NAME"], ".yaml"),
    (["hardware", "--hardware-file", "NAME"], ".yaml"),
    (["cluster", "--params", "7B", "--tokens", "1T", "--hardware-file", "NAME"], ".yaml"),
    (["inference-aware", "--flops", "1e21", "--inference-tokens", "1e12", "--law", "NAME"], ".yaml"),
    (["sweep", "--target-flops", "1e23", "--budget-flops", "1e20", "--law", "NAME"], ".yaml"),
    (["serve", "NAME"], ".json"),
    (["check", "NAME"], ".json"),
    (["export", "hf", "NAME", "-o", "out"], ".json"),
    (["export", "hf", "NAME", "-o", "out"], ".yaml"),
    (["allocate", "--model", "NAME", "--tokens", "1T"], ".json"),
]


def _signature(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "special"


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): _signature(p) for p in sorted(root.rglob("*")) if not p.is_dir()}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _one_line(result) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scaleplan: error: "), result.stderr
    assert result.stdout == ""


# --- a FIFO and /dev/zero for every file option: refused on the open descriptor, never waited on or read


@pytest.mark.parametrize("args, suffix", FILE_OPTIONS, ids=[" ".join(a) + s for a, s in FILE_OPTIONS])
@pytest.mark.parametrize("special", ["fifo", "zero"])
def test_a_fifo_or_device_is_refused_by_every_file_option(workdir, args, suffix, special):
    name = f"{special}{suffix}"
    if special == "fifo":
        os.mkfifo(workdir / name)  # opening it to read would block until a writer came: the reader never waits
    else:
        os.symlink("/dev/zero", workdir / name)  # endless: the reader checks the descriptor before reading
    before = _tree(workdir)
    result = runner.invoke(app, [name if a == "NAME" else a for a in args])
    _one_line(result)
    assert "not a regular file" in result.stderr, result.stderr
    assert _tree(workdir) == before


def test_a_fifo_named_in_a_budget_file_is_refused(workdir):
    os.mkfifo(workdir / "fifo.yaml")
    for text in ("flops: 1e21\nhardware_file: fifo.yaml\n", "flops: 1e21\nlaw: fifo.yaml\n"):
        (workdir / "b.yaml").write_text(text)
        result = runner.invoke(app, ["plan", "b.yaml"])
        _one_line(result)
        assert "not a regular file" in result.stderr


def test_the_reader_refuses_special_files_and_reads_at_most_the_cap(tmp_path):
    from scaleplan.core.files import read_bytes, read_text

    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ScaleplanError, match="not a regular file"):
        read_bytes(tmp_path / "fifo")
    with pytest.raises(ScaleplanError, match="is a folder"):
        read_text(tmp_path)
    (tmp_path / "big.txt").write_text("x" * 2000)
    with pytest.raises(ScaleplanError, match="larger than a runs file may be"):
        read_text(tmp_path / "big.txt", "runs file", max_bytes=1000)
    with pytest.raises(ScaleplanError, match="NUL"):
        read_text("a\x00b")


# --- inputs are never outputs, even with --force


def test_a_report_never_writes_over_a_hardware_file_in_its_folder(workdir):
    (workdir / "rep").mkdir()
    (workdir / "rep" / "README.md").write_text(HARDWARE)
    (workdir / "b.yaml").write_text("flops: 1e21\nhardware: mychip\n")
    result = runner.invoke(app, ["plan", "b.yaml", "--hardware-file", "rep/README.md", "--report", "rep", "--force"])
    _one_line(result)
    assert "--report rep: refusing to write" in result.stderr and "the input file" in result.stderr
    assert (workdir / "rep" / "README.md").read_text() == HARDWARE


def test_a_report_never_writes_over_a_hard_link_to_an_input(workdir):
    (workdir / "rep").mkdir()
    os.link(workdir / "hw.yaml", workdir / "rep" / "README.md")
    (workdir / "b.yaml").write_text("flops: 1e21\nhardware: mychip\n")
    result = runner.invoke(app, ["plan", "b.yaml", "--hardware-file", "hw.yaml", "--report", "rep", "--force"])
    _one_line(result)
    assert "refusing to write over rep/README.md, the input file" in result.stderr
    assert (workdir / "hw.yaml").read_text() == HARDWARE


@pytest.mark.parametrize(
    "args",
    [
        ["fit", "runs.csv", "--save", "LINK.yaml", "--force"],
        ["curve", "fit", "log.csv", "--save", "LINK.yaml", "--force"],
        ["curve", "predict", "--law", "curve.yaml", "--output", "LINK.csv", "--force"],
        ["sweep", "--target-flops", "1e23", "--budget-flops", "1e20", "--law", "law.yaml", "-o", "LINK.csv", "--force"],
    ],
    ids=["fit --save", "curve fit --save", "curve predict --output", "sweep --output"],
)
def test_no_output_is_a_hard_link_to_an_input(workdir, args):
    runner.invoke(app, ["curve", "fit", "log.csv", "--save", "curve.yaml"])
    source = {"fit": "runs.csv", "curve": "log.csv" if args[1] == "fit" else "curve.yaml", "sweep": "law.yaml"}[args[0]]
    link = next(a for a in args if a.startswith("LINK"))
    os.link(workdir / source, workdir / link)
    before = (workdir / source).read_bytes()
    result = runner.invoke(app, args)
    _one_line(result)
    assert "an input of this command" in result.stderr, result.stderr
    assert (workdir / source).read_bytes() == before


def test_curve_plot_honours_force(workdir):
    pytest.importorskip("matplotlib")
    (workdir / "old.png").write_bytes(b"old")
    result = runner.invoke(app, ["curve", "predict", "--steps", "1000", "--plot", "old.png", "--force"])
    assert result.exit_code == 0, result.stderr
    assert (workdir / "old.png").read_bytes().startswith(b"\x89PNG")


# --- the data cache: any entry that is not ours for this file and version is a miss, never an error or a wait


def _entry(cache: Path, name: str) -> Path:
    from scaleplan.core import _yaml

    path = _yaml.DATA / name
    return cache / "scaleplan" / "data" / f"data-{path.stem}-{_yaml._cache_key(path.read_bytes())}.marshal"


CORRUPT = {
    "marshal None": lambda p: p.write_bytes(b"N"),
    "marshal of a list": lambda p: p.write_bytes(__import__("marshal").dumps([1, 2])),
    "truncated": lambda p: p.write_bytes(b"\xfb\x00\x00"),
    "garbage": lambda p: p.write_bytes(os.urandom(64)),
    "empty": lambda p: p.write_bytes(b""),
    "another key": lambda p: p.write_bytes(
        __import__("marshal").dumps((b"scaleplan-data-cache-2", "0" * 32, {"x": 1}))
    ),
    "our key, wrong types": lambda p: p.write_bytes(
        __import__("marshal").dumps((b"scaleplan-data-cache-2", p.stem.rsplit("-", 1)[1], {"x": {1, 2}}))
    ),
    "our key, not a mapping": lambda p: p.write_bytes(
        __import__("marshal").dumps((b"scaleplan-data-cache-2", p.stem.rsplit("-", 1)[1], [1, 2]))
    ),
    "a folder": lambda p: (p.mkdir(), (p / "x").write_text("x")),
    "a fifo": lambda p: os.mkfifo(p),
    "a link to /dev/zero": lambda p: os.symlink("/dev/zero", p),
}


@pytest.mark.parametrize("kind", list(CORRUPT))
@pytest.mark.parametrize("name", ["hardware.yaml", "precision.yaml"])
def test_a_corrupted_cache_entry_is_parsed_around(tmp_path, monkeypatch, kind, name):
    from scaleplan.core import _yaml

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    entry = _entry(tmp_path, name)
    entry.parent.mkdir(parents=True)
    CORRUPT[kind](entry)
    expected = _yaml.load((_yaml.DATA / name).read_text(encoding="utf-8"))
    assert _yaml.read(_yaml.DATA / name) == expected
    assert _yaml.read(_yaml.DATA / name) == expected  # and again, once the entry was (or could not be) replaced
    assert not [p for p in entry.parent.iterdir() if p.name.endswith(".tmp")], "a temporary file was left behind"


def test_the_cache_keys_on_content_not_on_size_and_time(tmp_path, monkeypatch):
    """A changed data file with the same size and modification time (cp -p, reproducible builds) is read afresh."""
    from scaleplan.core import _yaml

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    f = data / "table.yaml"
    f.write_text("a: 1\n")
    stamp = f.stat().st_mtime_ns
    assert _yaml.read(f) == {"a": 1}
    f.write_text("a: 2\n")
    os.utime(f, ns=(stamp, stamp))
    assert _yaml.read(f) == {"a": 2}


def test_a_command_with_a_lying_cache_answers(tmp_path):
    """The byte N (marshal's None) where precision.yaml's entry sits once crashed `precision` with a traceback."""
    import subprocess
    import sys

    entry = _entry(tmp_path, "precision.yaml")
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"N")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "scaleplan", "precision", "--params", "7B", "--tokens", "2T", "-f", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    json.loads(run.stdout)


# --- fits of runs that follow no law: a warning or one line, never a traceback; JSON always parses

FORMATS = ["table", "json", "csv", "markdown"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("method", ["huber", "vp"])
@pytest.mark.parametrize("name", list(RUN_FILES))
def test_a_fit_of_runs_that_follow_no_law_degrades(workdir, name, method, fmt):
    result = runner.invoke(app, ["fit", name, "--method", method, "-f", fmt])
    assert "Traceback" not in result.stderr and "Warning:" not in result.stderr
    if result.exit_code == 2:  # the fit ran off: one line naming the law
        _one_line(result)
        assert "the runs do not follow L = E + A/N^alpha + B/D^beta" in result.stderr
        return
    assert result.exit_code == 0, (result.stderr, result.exception)
    if fmt == "json":
        json.loads(result.stdout)
    if name == "rising.csv":
        assert "the runs do not follow L = E + A/N^alpha + B/D^beta" in result.stderr
        assert "no allocation" in result.stderr


def test_noise_runs_name_the_law_they_do_not_follow(workdir):
    for method in ("huber", "vp"):
        result = runner.invoke(app, ["fit", "noise.csv", "--method", method])
        assert result.exit_code in (0, 2) and "Traceback" not in result.stderr
        assert "the runs do not follow L = E + A/N^alpha + B/D^beta" in result.stderr or "bound" in result.stderr


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_fit_with_no_allocation_shows_none_and_saves_no_law(workdir, fmt):
    result = runner.invoke(app, ["fit", "rising.csv", "-f", fmt])
    assert result.exit_code == 0, result.stderr
    if fmt == "json":
        rows = json.loads(result.stdout)["parametric"]["allocation"]
        assert all(r["params"] is None and r["tokens"] is None for r in rows)
    save = runner.invoke(app, ["fit", "rising.csv", "--save", "rising.yaml", "-f", fmt])
    _one_line(save)
    assert "--save rising.yaml: the runs do not follow" in save.stderr and not (workdir / "rising.yaml").exists()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("method", ["huber", "vp"])
def test_fit_budgets_are_honoured_in_every_format(workdir, method, fmt):
    result = runner.invoke(app, ["fit", "runs.csv", "--method", method, "--budgets", "1e22", "-f", fmt])
    assert result.exit_code == 0, result.stderr
    assert "1e22" in result.stdout.replace("1e+22", "1e22").replace("1.0e+22", "1e22") or "1e+22" in result.stdout
    assert "1e23" not in result.stdout and "1e+23" not in result.stdout
    if fmt == "json":
        record = json.loads(result.stdout)
        rows = (record.get("parametric") or record.get("vp"))["allocation"]
        assert [r["flops"] for r in rows] == [1e22]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_flat_log_fits_with_a_warning_and_json_parses(workdir, fmt):
    result = runner.invoke(app, ["curve", "fit", "flat-log.csv", "-f", fmt])
    assert result.exit_code == 0 and "Traceback" not in result.stderr, result.stderr
    if fmt == "json":
        assert json.loads(result.stdout)["r2"] is None
        assert "written as null" in result.stderr


@pytest.mark.parametrize("steps", ["1", "2", "3"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_best_cooldown_of_a_tiny_run_is_an_answer_or_one_line(workdir, steps, fmt):
    result = runner.invoke(app, ["curve", "predict", "--best-cooldown", "--steps", steps, "-f", fmt])
    assert "Traceback" not in result.stderr and "RuntimeWarning" not in result.stderr
    if result.exit_code == 2:
        _one_line(result)
        return
    assert result.exit_code == 0, (result.stderr, result.exception)
    if fmt == "json":
        json.loads(result.stdout)


def test_json_never_writes_nan():
    from scaleplan.present.render import to_json

    nulled: list[str] = []
    text = to_json({"a": math.nan, "b": [1.0, math.inf], "c": {"d": np.float64("-inf")}}, nulled)
    assert json.loads(text) == {"a": None, "b": [1.0, None], "c": {"d": None}}
    assert nulled == ["a", "b[1]", "c.d"]


# --- curve predict: the law's own peak learning rate, and a word whenever the loss goes below L0


def test_curve_predict_defaults_to_the_laws_logged_peak_lr_and_warns_outside_it(workdir):
    assert runner.invoke(app, ["curve", "fit", "log.csv", "--save", "curve.yaml"]).exit_code == 0
    own = runner.invoke(app, ["curve", "predict", "--law", "curve.yaml", "-f", "json"])
    assert own.exit_code == 0, own.stderr
    assert json.loads(own.stdout)["peak_lr"] == pytest.approx(3e-4)
    assert "outside the peak learning rate" not in own.stderr
    far = runner.invoke(app, ["curve", "predict", "--law", "curve.yaml", "--peak-lr", "1e-1", "-f", "json"])
    assert far.exit_code == 0
    assert "--peak-lr 0.1 is outside the peak learning rate of the logs" in far.stderr


def test_curve_predict_says_when_a_loss_falls_below_l0(workdir):
    result = runner.invoke(app, ["curve", "predict", "--peak-lr", "0.5", "-f", "json"])
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    low = min(min(v for k, v in row.items() if k.startswith("loss_")) for row in record["curve"])
    assert low < record["law"]["L0"]
    assert "below" in result.stderr and "L0" in result.stderr


# --- columns: one match or a refusal that names the candidates


@pytest.mark.parametrize(
    "name, text",
    [
        ("ambiguous.csv", "2 columns match params: n, model_size; pick one with --columns params=NAME"),
        ("two-losses.csv", "2 columns match loss: val_loss, train_loss; pick one with --columns loss=NAME"),
        ("same-name.csv", "2 columns are named 'loss'"),
        ("semicolon.csv", "the header looks ';'-separated"),
    ],
)
@pytest.mark.parametrize("method", ["huber", "vp"])
def test_ambiguous_columns_are_refused(workdir, name, text, method):
    result = runner.invoke(app, ["fit", name, "--method", method])
    _one_line(result)
    assert text in result.stderr, result.stderr


@pytest.mark.parametrize("name, columns", [("ambiguous.csv", "params=model_size"), ("two-losses.csv", "loss=val_loss")])
def test_columns_resolve_an_ambiguity_and_the_output_names_them(workdir, name, columns):
    result = runner.invoke(app, ["fit", name, "--columns", columns, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    field, column = columns.split("=")
    assert json.loads(result.stdout)["data"]["columns"][field] == column


# --- the library names a wrong argument


@pytest.mark.parametrize(
    "call, text",
    [
        (lambda: scaleplan.load_runs(5), "path must be a file name"),
        (lambda: scaleplan.load_runs(None), "path must be a file name"),
        (lambda: scaleplan.load_log(5), "path must be a file name"),
        (lambda: scaleplan.load_log("log.csv", lr_path=3.5), "lr_path must be a file name"),
        (lambda: scaleplan.load_log("log.csv", columns="loss"), "columns must be a mapping"),
        (lambda: scaleplan.load_checkpoints(5), "path must be a file name"),
        (lambda: scaleplan.fit_parametric("runs.csv"), "runs must be a Runs"),
        (lambda: scaleplan.fit_vp("runs.csv"), "runs must be a Runs"),
        (lambda: scaleplan.fit_isoflop([1, 2]), "runs must be a Runs"),
        (lambda: scaleplan.bootstrap(None), "runs must be a Runs"),
        (lambda: scaleplan.fit_curves(5), "curves must be Curves"),
        (lambda: scaleplan.fit_curves(["log.csv"]), "curves must be Curves"),
        (lambda: scaleplan.best_cooldown(5, 5), "law must be a CurveLaw"),
        (
            lambda: scaleplan.steps_to_loss(__import__("scaleplan.curves.law").curves.law.example_law(), "3", 5),
            "schedule must be a Schedule",
        ),
        (lambda: scaleplan.curves.law.load_law(5), "path must be a file name"),
        (
            lambda: scaleplan.CurveLaw.from_dict({"L0": 3, "A": 1, "alpha": 0.5, "C": 0, "logged_peak_lr": "x"}),
            "logged_peak_lr",
        ),
    ],
    ids=lambda v: "" if callable(v) else v,
)
def test_library_functions_name_a_wrong_argument(workdir, call, text):
    with pytest.raises(ScaleplanError, match=text):
        call()


def test_the_bulk_reader_and_the_careful_reader_agree(workdir):
    """A runs file whose cells need the careful reader (a quoted cell) gives the same runs as the bulk path."""
    quoted = GOOD_RUNS.replace("5e+07", '"5e+07"', 1)
    (workdir / "quoted.csv").write_text(quoted)
    fast, careful = scaleplan.load_runs("runs.csv"), scaleplan.load_runs("quoted.csv")
    for key in ("params", "tokens", "loss", "flops"):
        assert np.array_equal(getattr(fast, key), getattr(careful, key))
    assert list(fast.rows) == list(careful.rows)
    (workdir / "bad.csv").write_text(GOOD_RUNS.replace("5e+07", "nan", 1))
    with pytest.raises(ScaleplanError, match=r"bad.csv, row 1 \(line 2\): column 'params' must be a positive"):
        scaleplan.load_runs("bad.csv")


# --- YAML 1.1 numbers a person never means: 010 (octal 8) and 1:30 (base 60, 90)


@pytest.mark.parametrize(
    "args, text, shown",
    [
        (
            ["plan", "f.yaml"],
            "gpus: 010\ndays: 3\n",
            "f.yaml:1: gpus: 010 is an octal number in YAML 1.1 (8); write 10",
        ),
        (["plan", "f.yaml"], "gpus: 8\ndays: 1:30\n", "f.yaml:2: days: 1:30 is a base-60 number in YAML 1.1"),
        (["plan", "f.yaml"], "scenarios:\n  - flops: 1e21\n    gpus: 0777\n", "f.yaml:3: gpus: 0777 is an octal"),
        (
            ["laws", "show", "f.yaml"],
            LAW.replace("A: 480", "A: 0400"),
            "f.yaml:3: A: 0400 is an octal number in YAML 1.1 (256)",
        ),
        (["allocate", "--flops", "1e21", "--law", "f.yaml"], LAW.replace("B: 2100", "B: 35:00"), "base-60"),
        (["curve", "predict", "--law", "f.yaml"], "L0: 3\nA: 010\nalpha: 0.5\nC: 0\n", "f.yaml:2: A: 010 is an octal"),
        (["fit", "f.yaml"], "runs:\n  - {params: 0100, tokens: 1e9, loss: 3}\n", "params: 0100 is an octal"),
    ],
    ids=["gpus 010", "days 1:30", "scenario gpus", "law constant", "law base 60", "curve law", "runs file"],
)
def test_yaml_11_octal_and_base_60_numbers_are_refused(workdir, args, text, shown):
    (workdir / "f.yaml").write_text(text)
    result = runner.invoke(app, args)
    _one_line(result)
    assert shown in result.stderr, result.stderr


def test_quoted_or_plain_decimal_numbers_stay_accepted(workdir):
    (workdir / "f.yaml").write_text('scenarios:\n  - name: "010"\n    gpus: 10\n    days: 1.5\n')
    result = runner.invoke(app, ["plan", "f.yaml", "-f", "json"])
    assert result.exit_code == 0, result.stderr


def test_runs_in_the_wrong_units_warn(workdir):
    rows = [(n, d) for n in (0.05, 0.1, 0.2, 0.4, 0.8) for d in (1, 2, 4)]
    (workdir / "billions.csv").write_text(
        "params,tokens,loss\n" + "".join(f"{n},{d}e9,{2 + 0.5 / n**0.3 + 0.3 / d**0.3:.4f}\n" for n, d in rows)
    )
    result = runner.invoke(app, ["fit", "billions.csv", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert "15 of 15 runs have fewer than 1.00M parameters (column 'params', smallest 0.05)" in result.stderr


@pytest.mark.parametrize(
    "call, text",
    [
        (lambda: scaleplan.plan(flops=10**400), "flops must be finite, got an integer of 401 digits"),
        (lambda: scaleplan.get_hardware(5), "hardware must be a preset name"),
        (lambda: scaleplan.get_hardware("h100", peak_flops=-1), "peak_flops must be a positive number"),
        (lambda: scaleplan.get_hardware("h100", peak_flops="fast"), "peak_flops must be a positive number"),
        (lambda: scaleplan.load_budget_file(5), "path must be a budget file name"),
    ],
    ids=["plan 10**400", "get_hardware(5)", "peak_flops -1", "peak_flops text", "load_budget_file(5)"],
)
def test_public_entry_points_name_a_wrong_argument(call, text):
    with pytest.raises(ScaleplanError, match=text):
        call()


def test_compare_takes_one_law_by_name():
    assert [r["law"] for r in scaleplan.compare("epoch", 1e21).to_dict()["rows"]] == ["epoch"]


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_a_huge_price_prints_in_scientific_notation(fmt):
    import re

    result = runner.invoke(app, ["allocate", "--flops", "1e21", "--price", "1e300", "-f", fmt])
    assert result.exit_code == 0, result.stderr
    assert "$1e300/h" in result.stdout and not re.search(r"\d{20}", result.stdout)


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_control_characters_in_a_name_are_escaped(workdir, fmt):
    (workdir / "ctl.yaml").write_text('scenarios:\n  - name: "a\\e[31mred\\a"\n    flops: 1e21\n')
    result = runner.invoke(app, ["plan", "ctl.yaml", "-f", fmt])
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout + result.stderr
    assert "a\\x1b[31mred\\x07" in result.stdout


@pytest.mark.parametrize(
    "args, name, text",
    [
        (["laws", "show", "f.yaml"], "f.yaml", LAW.replace("A: 480", "A: 4.8e2")),
        (["hardware", "--hardware-file", "f.yaml"], "f.yaml", HARDWARE),
        (["curve", "predict", "--law", "f.yaml", "--steps", "1000"], "f.yaml", "L0: 3\nA: 5e-1\nalpha: 0.5\nC: 0\n"),
    ],
    ids=["law constant 4.8e2", "hardware peak 1e15", "curve law 5e-1"],
)
def test_law_hardware_and_curve_files_read_1e15_as_a_number(workdir, args, name, text):
    if "hardware" in args:
        text = "\n".join(
            "  peak_flops: 1e15" if line.strip().startswith("peak_flops:") else line for line in text.splitlines()
        )
    (workdir / name).write_text(text)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
