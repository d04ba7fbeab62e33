"""Output a person reads (issue 11 item 7, issue 12 item 3): CSV that loads, durations and money as written, one
number format per table, help that fits 80 columns, warnings said once, and prices labelled as assumptions."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from scaleplan.cli import app as cli
from scaleplan.cluster import cost
from scaleplan.schema.units import fmt_dollars, fmt_duration, parse_quantity

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
SHARED_RUNS = REPO.parent / "shared" / "data" / "svg_extracted_data.csv"
runner = CliRunner()


def ok(*args, width=100):
    old = cli.out.width, cli.err.width
    cli.out.width = cli.err.width = width
    try:
        result = runner.invoke(cli.app, [str(a) for a in args])
    finally:
        cli.out.width, cli.err.width = old
    assert result.exit_code == 0, result.stderr + result.stdout
    return result


# ---------------------------------------------------------------------------------------------------------------
# CSV: one row per table row; every nested value JSON text


def read_csv(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    assert rows, text[:200]
    for row in rows:
        assert None not in row and None not in row.values(), "a row longer or shorter than the header"
    return rows


def cell(text: str):
    """What a CSV cell holds: None for an empty cell, JSON where it is JSON text, else the text."""
    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def flat(record: dict, prefix: str = "") -> dict:
    """The test's own reading of the CSV convention: a mapping becomes prefixed columns, anything else one cell."""
    out = {}
    for key, value in record.items():
        if isinstance(value, dict) and value:
            out.update(flat(value, f"{prefix}{key}_"))
        else:
            out[f"{prefix}{key}"] = value
    return out


def assert_cells_load(rows: list[dict]) -> None:
    for row in rows:
        for key, text in row.items():
            assert text not in ("True", "False", "nan", "inf"), (key, text)
            if text.startswith(("[", "{")):  # a nested value: JSON text, never a Python repr or a '; '-joined list
                json.loads(text)
            assert not re.match(r"^-?[\d.e+-]+(; -?[\d.e+-]+)+$", text), (key, text)


CSV_COMMANDS = [
    ["allocate", "--flops", "1e21"],
    ["allocate", "--flops", "1e23", "--ci", "0.8"],
    ["allocate", "--flops", "1e23", "--inference-tokens", "2e12"],
    ["allocate", "--params", "7B", "--tokens", "2T"],
    ["allocate", "--flops", "1e22", "--unique-tokens", "1e11"],
    ["allocate", "--flops", "1e22", "--moe"],
    ["allocate", "--moe", "--total-params", "671B", "--active-params", "37B", "--tokens", "14.8T"],
    ["allocate", "--dollars", "2M", "--price", "2.5"],
    ["plan", CONFIGS / "lab-1e23-h100.yaml"],
    ["plan", CONFIGS / "compare-laws-1e22.yaml"],
    ["plan", CONFIGS / "fitted-law.yaml"],
    ["compare", "epoch", "chinchilla", "kaplan", "--flops", "1e21", "--flops", "1e23"],
    ["laws"],
    ["laws", "show", "epoch"],
    ["laws", "check", "tao2024"],
    ["hardware"],
    ["inference-aware", "--flops", "1e23", "--inference-tokens", "2e12"],
    ["inference-aware", "--flops", "1e23", "--inference-tokens", "1e10..1e14", "--points", "3"],
    ["cluster", "--params", "70B", "--tokens", "2T", "--gpus", "1024", "--days", "30"],
    ["precision", "--params", "7B", "--tokens", "2T", "--serve-bits", "4"],
    ["vocab", "--params", "7B"],
    ["hparams", "--params", "7B", "--tokens", "2T"],
    ["sweep", "--target-flops", "1e23", "--budget-flops", "1e21"],
]


@pytest.mark.parametrize("args", CSV_COMMANDS, ids=lambda a: " ".join(str(x) for x in a)[:60])
def test_csv_loads_with_the_csv_module_and_json(args):
    assert_cells_load(read_csv(ok(*args, "-f", "csv").stdout))


@pytest.mark.parametrize(
    "args",
    [
        ["allocate", "--flops", "1e21"],
        ["allocate", "--flops", "1e23", "--ci", "0.8"],
        ["allocate", "--flops", "1e22", "--unique-tokens", "1e11"],
        ["cluster", "--params", "70B", "--tokens", "2T", "--gpus", "1024", "--days", "30"],
        ["vocab", "--params", "7B"],
    ],
)
def test_csv_cells_hold_the_json_values(args):
    (row,) = read_csv(ok(*args, "-f", "csv").stdout)
    record = flat(json.loads(ok(*args, "-f", "json").stdout))
    assert set(row) == set(record)
    for key, value in record.items():
        got = row[key] if isinstance(value, str) else cell(row[key])
        if value == {} or value == "":
            continue
        assert got == value, key


def test_nested_values_are_json_text():
    (row,) = read_csv(ok("allocate", "--flops", "1e21", "-f", "csv").stdout)
    hparams = json.loads(row["recipe_hparams"])
    assert [h["law"] for h in hparams][0] == "steplaw" and [h["law"] for h in hparams if h["default"]] == ["deepseek"]
    assert isinstance(json.loads(row["warnings"]), list)
    assert row["shape_glu"] in ("true", "false")

    (row,) = read_csv(ok("allocate", "--flops", "1e23", "--ci", "0.8", "-f", "csv").stdout)
    data = json.loads(ok("allocate", "--flops", "1e23", "--ci", "0.8", "-f", "json").stdout)
    lo, hi = json.loads(row["intervals_params"])
    assert [lo, hi] == data["intervals"]["params"] and lo < data["params"] < hi

    laws = {r["law"]: r for r in read_csv(ok("laws", "-f", "csv").stdout)}
    listed = {d["law"]: d for d in json.loads(ok("laws", "-f", "json").stdout)}
    for name, r in laws.items():
        if r["kind"] == "allocation":  # the other kinds have no fitted FLOPs (their cells are empty)
            assert json.loads(r["fitted_flops"]) == listed[name]["fitted_flops"]
        assert json.loads(r["aliases"]) == listed[name]["aliases"]


def test_fixed_model_csv_is_one_row_per_law_as_the_table():
    args = ("allocate", "--params", "7B", "--tokens", "2T")
    rows = read_csv(ok(*args, "-f", "csv").stdout)
    data = json.loads(ok(*args, "-f", "json").stdout)
    assert [r["law"] for r in rows] == [r["law"] for r in data["rows"]]
    assert "rows" not in rows[0] and data["law_params"]["params"] == 7e9 and data["law_params"]["tokens"] == 2e12
    for r, want in zip(rows, data["rows"]):
        assert float(r["extra_compute"]) == want["extra_compute"]
        # the model judged is the same on every row: the designed 7B (6,977,908,224) on the tokens of the budget
        assert float(r["model_params"]) == 6_977_908_224 and float(r["model_tokens"]) == data["tokens"]
        assert float(r["cost_dollars"]) == data["cost"]["dollars"]
        assert [h["law"] for h in json.loads(r["model_recipe_hparams"]) if h["default"]] == ["deepseek"]


def test_plan_file_csv_is_one_row_per_scenario():
    rows = read_csv(ok("plan", CONFIGS / "compare-laws-1e22.yaml", "-f", "csv").stdout)
    assert [r["law"] for r in rows] == ["epoch", "chinchilla", "chinchilla-tex", "kaplan", "porian"]


def test_fit_csv_loads(shared_data):
    if not SHARED_RUNS.exists():
        pytest.fail(f"{SHARED_RUNS} is missing")
    rows = read_csv(ok("fit", SHARED_RUNS, "--drop-worst", "5", "-f", "csv").stdout)
    assert_cells_load(rows)


# ---------------------------------------------------------------------------------------------------------------
# Durations and money as a person writes them


def test_money_boundaries():
    assert [fmt_dollars(x) for x in (99.994, 99.996, 999_999.4, 999_999.5, 1e6, 1.4e6, 999.5e6, 1e15, -1.4e6)] == [
        "$99.99",
        "$100",
        "$999,999",
        "$1.00M",
        "$1.00M",
        "$1.40M",
        "$1.00B",
        "$1e15",
        "-$1.40M",
    ]


def test_years_written_out():
    year = 365.25
    assert [fmt_duration(y * year) for y in (2.2, 56.4, 557.0, 1001.3, 55_700.0, 8.01e6, 3e12, 2e15)] == [
        "2.2 years",
        "56 years",
        "557 years",
        "1,000 years",
        "55,700 years",
        "8.01 million years",
        "3 trillion years",
        "2e15 years",
    ]


UNITS_IN_DAYS = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "days": 1.0, "years": 365.25}
WORDS = {"million": 1e6, "billion": 1e9, "trillion": 1e12}


def read_duration(text: str) -> float:
    words = text.split()
    number = float(words[0].replace(",", ""))
    for word in words[1:-1]:
        number *= WORDS[word]
    return number * UNITS_IN_DAYS[words[-1]]


@given(st.floats(min_value=1e-9, max_value=1e18, allow_nan=False))
def test_durations_never_use_e_plus_and_read_back(days):
    text = fmt_duration(days)
    assert "e+" not in text and "e0" not in text
    assert read_duration(text) == pytest.approx(days, rel=0.051)  # two significant figures at least


@given(st.floats(min_value=0, max_value=1e20, allow_nan=False))
def test_money_never_uses_e_plus_and_reads_back(dollars):
    text = fmt_dollars(dollars)
    assert "e+" not in text and "K" not in text and "P" not in text
    if dollars >= 999_999.5:
        assert text[-1] in "MBT" or "e" in text  # from a million up: $1.00M, never $1,000,000
    assert parse_quantity(text) == pytest.approx(dollars, rel=0.005, abs=0.005)


@given(st.floats(min_value=1e-4, max_value=1e20, allow_nan=False))
def test_negative_money_mirrors_positive(dollars):
    assert fmt_dollars(-dollars) == "-" + fmt_dollars(dollars)


def wall_clock(*args) -> str:
    (line,) = [ln for ln in ok("allocate", *args).stdout.splitlines() if "wall-clock on" in ln]
    return " ".join(line.split())


def test_wall_clock_rows():
    # 1e26 FLOPs on 8 H100s (989 TFLOP/s dense BF16) at MFU 0.40: 1e26 / (8 x 0.4 x 989e12) s = 1,001 years
    assert wall_clock("--flops", "1e26", "--gpus", "8") == "wall-clock on 8 GPUs 1,000 years"
    # $1e10 at $2.00/h on 1,024 GPUs: 5e9 GPU-hours / 1,024 = 4.88e6 h = 557 years; $1e12: 55,700 years
    assert wall_clock("--dollars", "1e10") == "wall-clock on 1,024 GPUs 557 years"
    assert wall_clock("--dollars", "1e12") == "wall-clock on 1,024 GPUs 55,700 years"
    assert wall_clock("--flops", "1e20", "--gpus", "1").startswith("wall-clock on 1 GPU ")
    out = ok("allocate", "--dollars", "1e6").stdout
    assert "$1.00M" in out and "$1,000,000" not in out


# ---------------------------------------------------------------------------------------------------------------
# One number format per table: scaleplan laws check


def test_laws_check_columns_share_one_number_format():
    out = ok("laws", "check", width=250).stdout
    assert "e+" not in out
    number = re.compile(r"^(≥ |≤ )?(-?\d+(\.\d+)?(e-?\d+)?|-)$")
    rows = [line.split("  ") for line in out.splitlines()]
    cells = [[c.strip() for c in row if c.strip()] for row in rows]
    table = [c for c in cells if len(c) == 6 and c[-1] in ("pass", "fail", "skipped")]
    assert len(table) > 100
    for claim, _source, published, value, difference, _verdict in table:
        assert number.match(published) and number.match(value), (claim, published, value)
        assert re.match(r"^([+-]\d+\.\d\d%|-) \(±[\d.e-]+%?\)$", difference), difference
    # Hoffmann et al. 2022 Table 3: 400 Million parameters at 1.92e19 FLOPs, printed in the table's notation
    (row,) = [c for c in table if c[0].startswith("Approach 1 at 1.92e19 FLOPs: 4e8 parameters")]
    assert row[2] == "4e8" and re.match(r"^\d\.\d{3}e8$", row[3])


# ---------------------------------------------------------------------------------------------------------------
# Help at 80 columns

COMMANDS = [
    [],
    ["allocate"],
    ["compare"],
    ["plan"],
    ["laws"],
    ["laws", "show"],
    ["laws", "check"],
    ["hardware"],
    ["vocab"],
    ["hparams"],
    ["flops"],
    ["inference-aware"],
    ["fit"],
    ["sweep"],
    ["precision"],
    ["cluster"],
    ["curve", "fit"],
    ["curve", "predict"],
    ["init"],
]


def help_text(args, columns, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("TERM", "dumb")
    result = runner.invoke(cli.app, [*args, "--help"], terminal_width=columns)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "scaleplan")
def test_help_fits_80_columns_without_breaking_a_word(args, monkeypatch):
    def words(text):
        return {w.strip("│╭╮╰╯─") for w in text.split()} - {""}

    wide, narrow = help_text(args, 250, monkeypatch), help_text(args, 80, monkeypatch)
    assert max(len(line) for line in narrow.splitlines()) <= 80
    broken = sorted(w for w in words(wide) if len(w) <= 40 and w not in words(narrow))
    assert not broken, broken
    assert "<table|json|csv|markdown>" not in narrow


def test_format_help_names_the_choices(monkeypatch):
    text = help_text(["allocate"], 80, monkeypatch)
    assert "FORMAT" in text and "table, json, csv" in " ".join(text.split())


# ---------------------------------------------------------------------------------------------------------------
# Warnings once, interval draws named for what they are


def test_plan_warnings_name_a_scenario_once():
    err = ok("plan", CONFIGS / "compare-laws-1e22.yaml").stderr
    lines = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert lines
    for line in lines:
        assert not re.match(r"^warning: ([^:]+): \1:", line), line
    # every scenario's extrapolations in one line, each law with its factor
    extrapolations = [line for line in lines if "extrapolat" in line]
    assert len(extrapolations) == 1 and "porian 391x (FLOPs)" in extrapolations[0], extrapolations
    # with tokens to serve, porian's own 'porian predicts no loss' is not prefixed again
    served = ok("plan", CONFIGS / "compare-laws-1e22.yaml", "--inference-tokens", "2e12").stderr
    assert "warning: porian predicts no loss" in served and "porian: porian" not in served


def test_interval_draws_say_what_they_are():
    fitted = " ".join(ok("plan", CONFIGS / "fitted-law.yaml", width=200).stdout.split())
    # configs/laws/example-fitted-law.yaml: a 1,000-resample bootstrap summarised by its mean and covariance
    assert "4,000 draws from the normal of a 1,000-resample bootstrap (200 for the recipe)" in fitted
    assert "bootstrap draws" not in fitted
    shipped = " ".join(ok("allocate", "--flops", "1e23", "--ci", "0.8", width=200).stdout.split())
    assert "4,000 bootstrap refits (200 for the recipe)" in shipped  # epoch-bootstrap.csv: 4,000 refits


# ---------------------------------------------------------------------------------------------------------------
# Prices labelled as assumptions, for serving as for training


def test_serving_price_is_labelled_in_the_caption():
    a100 = cost.get_hardware("a100")
    h100 = cost.get_hardware("h100")
    args = ("inference-aware", "--flops", "1e23", "--inference-tokens", "2e12")
    fixed = (*args, "--serving-model", "fixed-mfu")  # Sardana et al.'s pricing: what it assumed, said
    text = " ".join(ok(*fixed, "--inference-hardware", "a100", "-f", "markdown").stdout.split())
    assert f"Training h100 at MFU 40%, {h100.price_label}; serving a100-80gb (16-bit)" in text
    assert f"decode MFU 1%, {a100.price_label}; 25% of tokens prompt" in text
    assert a100.price_label.startswith(f"${a100.price_per_hour:.2f}/h, assumed: ")
    same = " ".join(ok(*fixed, "-f", "markdown").stdout.split())
    assert "decode MFU 1%, the same price; 25% of tokens prompt" in same
    roofline = " ".join(ok(*args, "--inference-hardware", "a100", "-f", "markdown").stdout.split())
    assert "priced by the serving roofline at each size's designed shape (16-bit weights, 16-bit KV, 70/215" in roofline
    assert f"{a100.price_label}." in roofline
    sweep = " ".join(ok(*args[:-1], "1e10..1e14", "--points", "3", "-f", "markdown").stdout.split())
    assert f"Training h100 at {h100.price_label}; serving h100 at the same price." in sweep


def test_plan_inference_cost_carries_its_price_label():
    # configs/serving-2t-tokens.yaml: h100 at a given $2.50/h, serving on the same hardware at the same price
    data = json.loads(ok("plan", CONFIGS / "serving-2t-tokens.yaml", "-f", "json").stdout)
    assert [p["cost"]["inference_price_label"] for p in data["plans"]] == ["$2.50/h, given"] * len(data["plans"])
    default = json.loads(ok("allocate", "--flops", "1e23", "--inference-tokens", "2e12", "-f", "json").stdout)
    assert default["cost"]["inference_price_label"] == cost.get_hardware("h100").price_label
    table = ok("allocate", "--flops", "1e23", "--inference-tokens", "2e12", "--price", "3").stdout
    assert re.search(r"serving \$ per GPU-hour +as training", table)
    given_price = ok("allocate", "--flops", "1e23", "--inference-tokens", "2e12", "--price", "3", "-f", "json").stdout
    assert json.loads(given_price)["cost"]["inference_price_label"] == "$3.00/h, given"


def test_no_price_label_is_neutral():
    # shown in tables and read from Python (Plan.cost.price_label): it names no CLI flag
    h100 = cost.get_hardware("h100")
    assert cost.price_label(h100, None) == "no published price for h100; a dollar cost needs a price"
    unpriced = [hw for hw in cost.presets().values() if hw.price_per_hour is None]
    assert unpriced  # issue 12: several presets have no published price
    for hw in unpriced:
        assert (
            hw.price_label
            == cost.price_label(hw, None)
            == f"no published price for {hw.key}; a dollar cost needs a price"
        )
    plan = __import__("scaleplan").allocate(1e21, hardware=unpriced[0].key)
    assert plan.cost.dollars is None and "--" not in plan.cost.price_label


def test_csv_cell_convention():
    import numpy as np

    from scaleplan.present.render import csv_cell

    cells = [None, True, 1e23, 5, float("nan"), np.float64(2.5), np.array([1.0, np.inf]), [1, {"a": None}], "x, y"]
    assert [csv_cell(v) for v in cells] == [
        "",
        "true",
        "1e+23",
        "5",
        "",
        "2.5",
        "[1.0, null]",
        '[1, {"a": null}]',
        "x, y",
    ]


def test_a_saving_below_zero_says_it_costs_more():
    # optimised for dollars, the inference-aware model spends more FLOPs than the compute-optimal one
    text = " ".join(
        ok(
            "inference-aware", "--flops", "1e23", "--inference-tokens", "2e12", "--objective", "cost",
            "--serving-model", "fixed-mfu",
        ).stdout.split()
    )  # fmt: skip
    assert "Costs " in text and "% more FLOPs, saves " in text and "Saves -" not in text


def test_plans_side_by_side_do_not_repeat_a_laws_own_count():
    # epoch counts all parameters: its 'params, total' row says 'as above'; kaplan's (non-embedding) gives the total
    text = ok("plan", CONFIGS / "compare-laws-1e22.yaml", width=250).stdout
    row = next(line for line in text.splitlines() if line.strip().startswith("params, total"))
    assert "as above" in row and re.search(r"\d+(\.\d+)?B", row)
