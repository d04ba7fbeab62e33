"""`plan FILE --report DIR`: a folder with README.md (the plan tables) and the PNGs it references."""

import re
import struct

import pytest

from scaleplan import plan_budget
from scaleplan.core.errors import ScaleplanError
from scaleplan.pipeline.budget import load_budget_file
from scaleplan.present.report import write_report
from scaleplan.schema.units import fmt_count

BUDGET = """\
hardware: h100
mfu: 0.4
gpus: 256
scenarios:
  - name: small epoch
    flops: 1e21
    law: epoch
  - name: served | big
    flops: 1e22
    law: epoch
    inference_tokens: 1T
  - name: approach 1
    flops: 1e21
    law: chinchilla-approach1
"""


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def budget_file(tmp_path):
    folder = tmp_path / "configs"
    folder.mkdir()
    path = folder / "plan.yaml"
    path.write_text(BUDGET)
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("in")
    path = folder / "plan.yaml"
    path.write_text(BUDGET)
    out = tmp_path_factory.mktemp("out") / "report"
    return path, write_report(path, out, points=30)


def test_report_folder_holds_readme_and_the_pngs_it_references(report):
    _, rep = report
    names = sorted(p.name for p in rep.folder.iterdir())
    assert names == sorted(p.name for p in rep.files)
    assert rep.files[-1].name == "README.md"  # written last: it never points at a missing figure
    text = (rep.folder / "README.md").read_text()
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    pngs = [n for n in names if n.endswith(".png")]
    assert set(linked) == set(pngs)
    # one allocation figure, one valley per (law with a loss, budget), one inference figure
    assert sorted(pngs) == [
        "allocation.png",
        "inference-02-served-big.png",
        "isoflop-epoch-1e21.png",
        "isoflop-epoch-1e22.png",
    ]
    sizes = {n: png_size((rep.folder / n).read_bytes()) for n in pngs}
    assert sizes["allocation.png"] == (1600, 800)
    assert sizes["isoflop-epoch-1e21.png"] == (1400, 800)
    assert sizes["inference-02-served-big.png"] == (1600, 800)


def test_report_tables_are_the_plan_numbers(report):
    path, rep = report
    plans = [plan_budget(b) for b in load_budget_file(path)]
    text = (rep.folder / "README.md").read_text()
    assert "| parameters |" in text and "served \\| big" in text  # a pipe in a name is escaped
    for p, q in zip(plans, rep.plans):
        assert p.to_dict() == q.to_dict()
        assert fmt_count(p.params) in text and fmt_count(p.tokens) in text
    served = rep.plans[1].inference
    assert fmt_count(served.inference_aware.params) in text
    assert "Inference-aware sizing" in text and "within 0.5% of the optimum" in text


def test_report_refuses_the_input_folder_and_the_input_file(budget_file):
    before = sorted(p.name for p in budget_file.parent.iterdir())
    with pytest.raises(ScaleplanError, match="folder of the input file"):
        write_report(budget_file, budget_file.parent, figures=False)
    with pytest.raises(ScaleplanError, match="not a folder"):
        write_report(budget_file, budget_file, figures=False)
    assert sorted(p.name for p in budget_file.parent.iterdir()) == before
    assert budget_file.read_text() == BUDGET


def test_markdown_only_report(budget_file, tmp_path):
    rep = write_report(budget_file, tmp_path / "md", figures=False)
    assert [p.name for p in rep.files] == ["README.md"]
    assert "![" not in (tmp_path / "md" / "README.md").read_text()


def test_a_failed_write_leaves_no_half_written_file(budget_file, tmp_path, monkeypatch):
    def boom(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", boom)
    monkeypatch.setattr("os.link", boom)
    with pytest.raises(ScaleplanError, match="No space left"):
        write_report(budget_file, tmp_path / "out", figures=False)
    assert not (tmp_path / "out").exists()  # the folder it created is gone again


REPO = __import__("pathlib").Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"\d[\d,.]*(?:e[+-]?\d+)?")


def _sections(text: str) -> dict[str, str]:
    """Heading -> the text under it, up to the next heading of any level."""
    parts = re.split(r"^(#{1,3} .*)$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_reports_of_the_readme_scenario_files(tmp_path):
    """Every example budget file (configs/, the README's scenario files) reports: one decision summary at the top
    with a row per scenario, a title per scenario that says its mode, each warning once, each source once, and no
    section (or table) without content."""
    for src in sorted((REPO / "configs").glob("*.yaml")):
        rep = write_report(src, tmp_path / src.stem, figures=False)
        text = (rep.folder / "README.md").read_text()
        sections = _sections(text)
        assert list(sections)[:2] == [f"# Training plan: {src.name}", "## Decision"], src.name
        assert text.count("## Decision") == 1
        summary = [line for line in sections["## Decision"].splitlines() if line.startswith("| ")]
        assert len(summary) == 1 + len(rep.plans), src.name  # the header and one row per scenario
        for heading, body in sections.items():
            assert body.strip(), f"{src.name}: empty section {heading!r}"
        for table in re.findall(r"((?:^\|.*\|\n)+)", text, flags=re.M):
            assert len(table.strip().splitlines()) > 2, f"{src.name}: a table with no rows"
        # each warning once; warnings saying the same thing with other numbers are one line
        bullets = sections.get("## Warnings", "").split("\n- ")[1:]
        templates = [NUMBER.sub("#", b.split(": ", 1)[-1]) for b in bullets]
        assert len(templates) == len(set(templates)), f"{src.name}: a repeated warning"
        # each source once: a footnote, never a 'Source:' line or a price source repeated in the tables
        assert "\nSource: " not in text and ", assumed: " not in text.split("## Sources and notes")[0]
        notes = re.findall(r"^\[\^\d+\]: (.*)$", text, flags=re.M)
        assert notes and len(notes) == len(set(notes))
        for ref in set(re.findall(r"\[\^(\d+)\](?!:)", text)):
            assert f"[^{ref}]: " in text  # every reference has its note
        # a title per scenario that says its mode
        for p in rep.plans:
            assert any(h.startswith("## ") and p.name in h for h in sections) or any(p.name in r for r in summary)
    serving = (tmp_path / "serving-2t-tokens" / "README.md").read_text()
    assert "compute-optimal allocation under each" not in serving
    titles = [h for h in _sections(serving) if h.startswith("## ") and ": inference-aware" in h]
    assert len(titles) == 3 and not any("compute-optimal" in h for h in _sections(serving))
    moe = _sections((tmp_path / "moe" / "README.md").read_text())
    assert "## DeepSeek-V3-like: a given mixture of experts" in " ".join(moe)
    limited = _sections((tmp_path / "limited-data" / "README.md").read_text())
    assert any(h.startswith("## limited data: data-constrained") for h in limited)


def test_report_leaves_out_what_does_not_apply(tmp_path):
    """No inference table when nothing is served (`inference_tokens: 0`); no figures section without figures."""
    src = tmp_path / "b.yaml"
    src.write_text("flops: 1e21\ninference_tokens: 0\n")
    rep = write_report(src, tmp_path / "out", figures=False)
    text = (rep.folder / "README.md").read_text()
    assert "Inference-aware sizing" not in text and "inference FLOPs" not in text and "## Figures" not in text
    assert "## b: compute-optimal" in text  # named after its file


def test_report_says_first_what_breaks_the_budget(tmp_path):
    from scaleplan.pipeline.budget import Budget
    from scaleplan.present.report import write_plan_report

    budget = Budget.from_mapping({"dollars": "2M", "hardware": "h100", "gpus": 512, "inference_tokens": 5e12})
    rep = write_plan_report(budget, tmp_path / "out", figures=False)
    text = (rep.folder / "README.md").read_text()
    decision = _sections(text)["## Decision"]
    # Besiroglu et al.'s law (epoch) at $2M of H100 time and 5e12 tokens served: the inference-aware model trains
    # on 1.57e24 FLOPs, $2.21M at $2.00/h and MFU 0.40 (issue #26's measured example)
    assert (
        "**Over budget:** the plan: the inference-aware model trains on 1.57e24 FLOPs: $2.21M to train, not the $2.00M the budget gives"
        in decision
    )
    assert "the budget gives" not in _sections(text).get("## Warnings", "")  # said once, first


def test_allocate_report_from_flags(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from scaleplan.cli.app import app
    from scaleplan.present import plot_style

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(plot_style, "png", lambda fig: b"\x89PNG\r\n\x1a\n")  # drawn, not encoded (test_plot's job)
    runner = CliRunner()
    args = ["allocate", "--flops", "1e21", "--report", "rep"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "rep" / "README.md").read_text()
    assert text.startswith("# Training plan: allocate") and "## the plan: compute-optimal" in text
    assert "wrote 3 files to rep" in result.stderr  # allocation.png, the IsoFLOP valley, README.md
    again = runner.invoke(app, args)  # never over an existing report without --force
    assert again.exit_code == 2 and "the folder is not empty (3 entries)" in again.stderr
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
