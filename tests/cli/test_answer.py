"""The answer first (issue #26 item 1): every planning command opens with the model, the run and anything over the
budget or a limit; warnings are grouped (every extrapolation in one line) and coloured only on a terminal; --quiet
keeps the answer alone; JSON keeps every warning whole.

The over-budget case is the issue's own, measured on main 22a2686: `allocate --dollars 2M --hardware h100 --gpus 512
--inference-tokens 5e12` recommends a 71.3B model whose training costs $2.21M, over the $2M budget (Besiroglu et al.
2024's law, the default; $2.00/h, Sardana et al. 2024's H100 price)."""

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from scaleplan.cli import app as cli
from scaleplan.present.render import print_warnings

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
runner = CliRunner()
OVER = ["allocate", "--dollars", "2M", "--hardware", "h100", "--gpus", "512", "--inference-tokens", "5e12"]
# a number as the tables write it: 1,102,555  $2.21M  1.57e24  0.19  40%  121x  3.67T
NUMBER = re.compile(r"(?<![\w.])\$?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?[%xKMBTP]?(?!\w)")


def run_at(args, width):
    old = cli.out.width
    cli.out.width = width
    try:
        result = runner.invoke(cli.app, args)
    finally:
        cli.out.width = old
    assert result.exit_code == 0, result.output
    return result


def answer_block(stdout: str) -> str:
    """The answer: the lines before the first blank line, unwrapped."""
    return " ".join(stdout.split("\n\n")[0].split())


@pytest.mark.parametrize("width", [60, 80, 200])
def test_allocate_opens_with_what_breaks_the_budget_then_the_model_and_the_run(width):
    out = run_at(OVER, width).stdout
    assert out.startswith("over budget: ")  # said first
    head = answer_block(out)
    assert "$2.21M to train, not the $2.00M the budget gives" in head
    assert "model: 71.3B parameters (84 x 8,192, 64 heads, 8 KV, d_ff 26,624) on 3.67T tokens" in head
    assert "run: 512 x h100 for 90 days" in head and "$2.21M to train" in head
    assert "serving: 5e12 tokens for $947,922" in head
    assert len(out.split("\n\n")[0].splitlines()) <= (12 if width == 60 else 9)  # a few lines, then the table
    assert "\nInference-aware plan" in out  # the full table follows


COMPARE = ["compare", "epoch", "chinchilla", "kaplan", "--flops", "1e23"]


@pytest.mark.parametrize("args", [OVER, COMPARE], ids=["allocate", "compare"])
@pytest.mark.parametrize("width", [60, 80])
def test_no_number_is_split_across_lines(args, width):
    wide = NUMBER.findall(run_at(args, 200).stdout)
    narrow = NUMBER.findall(run_at(args, width).stdout)
    assert len(wide) > 20 and sorted(narrow) == sorted(wide)  # a number over two lines would be two others


def test_warnings_are_grouped_and_json_keeps_every_one():
    result = runner.invoke(cli.app, [*OVER, "-f", "json"])
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert sum("extrapolat" in w for w in warnings) == 4 and any("the budget gives" in w for w in warnings)
    said = result.stderr.splitlines()
    extrapolations = [line for line in said if "extrapolat" in line]
    assert len(extrapolations) == 1  # one line naming each law and its factor (epoch twice: its largest factor)
    assert "epoch 121x (FLOPs)" in extrapolations[0]
    assert "tao2024 23.6x (non-vocabulary parameters)" in extrapolations[0] and "deepseek" in extrapolations[0]
    assert any("the budget gives" in line for line in said)  # no answer on stdout in JSON: said on stderr
    assert "\x1b[" not in result.stdout + result.stderr  # not a terminal: no colour codes


def test_the_table_does_not_repeat_the_answer_on_stderr():
    result = runner.invoke(cli.app, OVER)
    assert "the budget gives" in result.stdout and "the budget gives" not in result.stderr
    assert len(result.stderr.splitlines()) == 1  # the four extrapolations, grouped


def test_quiet_keeps_the_answer_alone():
    result = runner.invoke(cli.app, [*OVER, "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("over budget: ") and "model: 71.3B" in result.stdout
    assert "warning" not in result.output and result.stderr == ""
    assert "Inference-aware plan" not in result.stdout  # no full table
    data = runner.invoke(cli.app, [*OVER, "-q", "-f", "json"])  # JSON is the answer: whole, warnings inside
    assert data.stderr == "" and len(json.loads(data.stdout)["warnings"]) == 5


@pytest.mark.parametrize(
    "args, first",
    [
        (["allocate", "--flops", "1e21"], "model: 2.75B parameters"),
        (["plan", str(CONFIGS / "limited-data.yaml")], "model: "),
        (["inference-aware", "--inference-tokens", "2e12", "--flops", "1e23"], "model: 16.7B parameters"),
        (["cluster", "--params", "70B", "--tokens", "2T", "--gpus", "1024", "--hardware", "h100"], "model: 70.2B"),
        (["precision", "--flops", "1e23"], "lowest loss: "),
        # the designed 7B's 6.46B non-embedding parameters: FP8 +0.06% (Sun et al. 2025), 4-bit weights +5.23%
        # (Ouyang et al. 2024), as README's precision tour prints them
        (["precision", "--params", "7B", "--tokens", "2T"], "training: 6.46B non-embedding parameters on 2.01T"),
        (["serve", "--params", "8B", "--hardware", "h100"], "serving: 7.98B: $"),
    ],
)
def test_every_planning_command_opens_with_its_answer(args, first):
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(first), result.stdout[:200]
    quiet = runner.invoke(cli.app, [*args, "--quiet"])
    assert quiet.stderr == "" and quiet.stdout == result.stdout.split("\n\n")[0] + "\n\n"


def test_warnings_are_coloured_on_a_terminal_unless_no_color(monkeypatch):
    def said(**env):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        buf = io.StringIO()
        print_warnings(Console(file=buf, force_terminal=True, color_system="standard"), ["a warning"])
        return buf.getvalue()

    assert "\x1b[33mwarning: " in said()
    assert said(NO_COLOR="1").startswith("warning: a warning")
