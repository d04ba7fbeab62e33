"""Tables fit 80 columns and wrap between words, never inside one (STYLE.md 13)."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaleplan import cli

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
        (["plan", str(CONFIGS / "serving-2t-tokens.yaml")], ["compute-optimal", "(steplaw)"]),
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
