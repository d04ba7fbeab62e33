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
