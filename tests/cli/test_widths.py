"""Tables fit 80 columns and wrap between words, never inside one (STYLE.md 13)."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaleplan.cli import app as cli

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
runner = CliRunner()


def render(args):
    old = cli.out.width
    cli.out.width = 80
    try:
        result = runner.invoke(cli.app, args)
    finally:
        cli.out.width = old
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["plan", str(CONFIGS / "compare-laws-1e22.yaml")], ["chinchilla-tex", "non-emb.+head", "(tao2024)"]),
        (["plan", str(CONFIGS / "serving-2t-tokens.yaml")], ["compute-optimal", "(deepseek)"]),
        (["allocate", "--flops", "1e21"], ["H100_DEFAULT_COST,", "beyond-chinchilla", "cost_calculator.py"]),
        (["allocate", "--flops", "1e23", "--ci", "0.8"], ["bootstrap"]),
        (
            [
                "allocate",
                "--moe",
                "--total-params",
                "671B",
                "--active-params",
                "37B",
                "--tokens",
                "14.8T",
                "--hardware",
                "h800",
            ],
            ["mixture"],
        ),
    ],
)
def test_tables_fit_80_columns_without_breaking_words(args, words):
    text = render(args)
    table_lines = [line for line in text.splitlines() if line.strip()]
    assert max(len(line.rstrip()) for line in table_lines) <= 80
    for word in words:
        assert word in text, word  # a word the table would otherwise fold
    assert not re.search(r"[a-z]-\n", text)  # no hyphenated word split across lines


def render_at(args, width):
    old = cli.out.width
    cli.out.width = width
    try:
        result = runner.invoke(cli.app, args)
    finally:
        cli.out.width = old
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["compare", "chinchilla", "kaplan"],
        ["compare", "epoch", "chinchilla", "kaplan", "porian", "deepseek", "--flops", "1e18..1e25", "--points", "4"],
        ["allocate", "--flops", "1e23", "--inference-tokens", "2e12"],
        ["allocate", "--params", "7B", "--tokens", "2T"],
        ["allocate", "--flops", "1e22", "--unique-tokens", "1e11"],
        ["allocate", "--flops", "1e22", "--moe"],
        ["allocate", "--flops", "1e22", "--gpus", "256", "--recompute", "selective", "--precision", "fp8"],
        ["inference-aware", "--flops", "1e23", "--inference-tokens", "2e12"],
        ["inference-aware", "--law", "kaplan", "--flops", "1e23", "--inference-tokens", "1e10..1e14", "--points", "3"],
        ["hardware"],
        ["laws"],
        ["vocab", "--params", "7B"],
        ["hparams", "--params", "7B", "--tokens", "2T"],
        ["flops", "--layers", "32", "--d-model", "4096", "--heads", "32", "--vocab", "32000"],
        ["sweep", "--target-flops", "1e23", "--budget-flops", "1e21"],
        ["cluster", "--params", "70B", "--tokens", "2T", "--gpus", "1024", "--days", "30"],
        ["precision", "--params", "7B", "--tokens", "2T"],
        ["curve", "predict", "--steps", "10000", "--schedule", "cosine"],
        ["allocate", "--dollars", "2M", "--price", "2.5", "--law", "kaplan"],
        ["allocate", "--moe", "--total-params", "671B", "--active-params", "37B", "--tokens", "14.8T"],
        ["laws", "check"],  # claims and sources wrap between words ('Introducing MPT-7B', not 'Introducin g')
        ["allocate", "--flops", "1e20", "--gpus", "1"],
        *(["plan", str(path)] for path in sorted(CONFIGS.glob("*.yaml")) if path.name != "fitted-law.yaml"),
        ["plan", str(CONFIGS / "serving-2t-tokens.yaml"), "--mfu", "0.5"],
        ["plan", str(CONFIGS / "lab-1e23-h100.yaml"), "--inference-tokens", "2e12"],
        ["plan", str(CONFIGS / "compare-laws-1e22.yaml"), "--inference-tokens", "2e12"],
        ["allocate", "--target-loss", "2.0", "--inference-tokens", "2e12"],
    ],
)
def test_no_word_is_broken_at_80_columns(args):
    # Every word the wide table prints (up to 24 characters, the widest a column keeps whole) is whole at 80.
    wide, narrow = render_at(args, 250), render_at(args, 80)
    assert max(len(line.rstrip()) for line in narrow.splitlines()) <= 80
    words = {w for w in wide.split() if len(w) <= 24 and not set(w) <= set("━─│┃ ")}
    narrow_words = set(narrow.split())
    broken = sorted(w for w in words if w not in narrow_words)
    assert not broken, broken
    # and no piece of a word: everything the narrow output prints is a word the wide one prints too (a word printed
    # whole in one place and broken in another is caught here)
    wide_words = set(wide.split())
    layout = {"source:"}  # laws check puts each claim's source under it when narrow, with this label
    pieces = sorted(w for w in narrow_words - wide_words - layout if not set(w) <= set("━─│┃ "))
    assert not pieces, pieces
