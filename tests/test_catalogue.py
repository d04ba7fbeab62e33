"""One catalogue of every bundled law (issue 25): `scaleplan laws` lists each, grouped by kind, with its source and
status; `scaleplan laws show NAME` works for every one of them."""

import json

import pytest
from typer.testing import CliRunner

from scaleplan.cli.app import app
from scaleplan.core.errors import ScaleplanError
from scaleplan.laws import catalogue

runner = CliRunner()

# The laws the issue names, with the arXiv id of the paper each comes from.
EXPECTED = {
    "allocation": {
        "chinchilla": "2203.15556",
        "chinchilla-tex": "2203.15556",
        "chinchilla-approach1": "2203.15556",
        "chinchilla-approach2": "2203.15556",
        "chinchilla-sardana": "2401.00448",
        "epoch": "2404.10102",
        "kaplan": "2001.08361",
        "porian": "2406.19146",
        "deepseek": "2401.02954",
        "muennighoff": "2305.16264",
        "gadre": "2403.08540",
    },
    "recipe": {
        "tao2024": "2407.13623",  # Tao et al. 2024, vocabulary
        "steplaw": "2503.04715",  # Li et al. 2025
        "deepseek-lr-batch": "2401.02954",  # DeepSeek LLM eq. (1)
        "porian-lr-batch": "2406.19146",
        "kaplan-bcrit": "2001.08361",  # Kaplan's critical batch
    },
    "MoE": {"krajewski": "2402.07871"},
    "precision": {"sun": "2501.02423", "ouyang": "2411.17691", "kumar": "2411.04330"},
    "training curves": {"tissue": "2408.11029"},
}


def test_the_catalogue_lists_every_named_law_with_its_kind_source_and_status():
    entries = {e.name: e for e in catalogue.entries()}
    for kind, laws in EXPECTED.items():
        for name, arxiv in laws.items():
            assert entries[name].kind == kind and entries[name].arxiv == arxiv, name
    assert entries["serving"].kind == "serving defaults"
    assert all(e.source and e.status and e.file for e in entries.values())
    kinds = [e.kind for e in catalogue.entries()]
    assert list(dict.fromkeys(kinds)) == list(catalogue.KINDS)  # grouped, in the catalogue's order
    assert len(entries) == len(kinds)  # names are unique


def test_scaleplan_laws_prints_them_grouped():
    result = runner.invoke(app, ["laws"])
    assert result.exit_code == 0
    text = result.stdout
    for kind, laws in EXPECTED.items():
        assert all(word in text for word in kind.split())  # 'training curves' wraps in its column
        for name, arxiv in laws.items():
            assert name in text and arxiv in text
    assert text.index("allocation") < text.index("recipe") < text.index("precision") < text.index("serving")
    data = json.loads(runner.invoke(app, ["laws", "-f", "json"]).stdout)
    assert {d["law"] for d in data} >= {n for laws in EXPECTED.values() for n in laws} | {"serving"}
    assert all(d["status"] and d["source"] and d["kind"] for d in data)


def test_laws_show_works_for_every_bundled_law():
    for entry in catalogue.entries():
        result = runner.invoke(app, ["laws", "show", entry.name, "-f", "json"])
        assert result.exit_code == 0, (entry.name, result.output)
        record = json.loads(result.stdout)
        assert record["law"] == entry.name
    # what a table shows comes from the file: Sun's Table 2 constant, StepLaw's bootstrap mean, Kaplan's B*
    assert "68973.0621" in runner.invoke(app, ["laws", "show", "sun"]).stdout
    assert "1.797339994" in runner.invoke(app, ["laws", "show", "steplaw"]).stdout
    assert "b_star = 210000000" in " ".join(runner.invoke(app, ["laws", "show", "critical-batch"]).stdout.split())
    assert "epoch" in runner.invoke(app, ["laws", "show", "besiroglu"]).stdout  # aliases as before


def test_an_allocation_law_keeps_its_name_and_aliases():
    assert catalogue.get("deepseek").kind == "allocation"
    assert catalogue.get("deepseek2024").kind == "allocation"
    assert catalogue.get("deepseek-lr-batch").kind == "recipe"
    with pytest.raises(ScaleplanError, match="did you mean 'krajewski'"):
        catalogue.get("krajewsky")
    result = runner.invoke(app, ["laws", "show", "zzz"])
    assert result.exit_code == 2 and "unknown law 'zzz'" in result.stderr


# ---------------------------------------------------------------------------------------------------------------
# compare explains itself


def test_compare_says_why_each_law_differs_in_the_table_and_the_json():
    args = ["compare", "epoch", "chinchilla", "kaplan", "porian", "deepseek", "--flops", "1e21", "--flops", "1e23"]
    data = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    why = {r["law"]: r["why"] for r in data["rows"]}
    assert len(data["rows"]) == 10 and all(r["why"] for r in data["rows"])
    # what N counts, the data, the fit method or correction, the fitted range: from each law file
    assert why["kaplan"].startswith("N counts non-embedding parameters; WebText2;")
    assert "fitted 8.64e10..8.64e19 FLOPs" in why["kaplan"]
    assert "RefinedWeb" in why["porian"] and "head" in why["porian"]
    assert "FLOPs per token" in why["deepseek"] and "MassiveText" in why["chinchilla"]
    assert "refitted" in why["epoch"] and "1.39e18..1.3e22" in why["epoch"]
    from rich.console import Console

    from scaleplan.pipeline.optimal import compare
    from scaleplan.present.render import Format, emit_comparison

    console = Console(width=80, record=True)
    emit_comparison(
        console, Format.table, compare(["epoch", "chinchilla", "kaplan", "porian", "deepseek"], [1e21, 1e23])
    )
    table = console.export_text()
    assert "Why they differ" in table and max(len(line) for line in table.splitlines()) <= 80
    assert table.count("WebText2") == 1  # one line per law, not per budget
    csv_text = runner.invoke(app, [*args, "-f", "csv"]).stdout
    assert csv_text.splitlines()[0].split(",")[-1] == "why"
