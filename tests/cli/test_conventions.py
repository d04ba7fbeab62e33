"""Conventions a command-line user expects (issue #26 item 5): shell completion, option groups and option types in
--help, numbers never split across lines at any width, one vocabulary for prices."""

import json
import re

import pytest
from typer.testing import CliRunner

from scaleplan.cli import app as cli

runner = CliRunner()


def invoke(args, width=200, env=None):
    old = cli.out.width, cli.err.width
    cli.out.width = cli.err.width = width
    try:
        result = runner.invoke(cli.app, args, prog_name="scaleplan", env=env, terminal_width=width)
    finally:
        cli.out.width, cli.err.width = old
    assert result.exit_code == 0, result.output
    return result


def test_shell_completion_is_offered_and_completes_commands_and_flags():
    assert "--install-completion" in invoke(["-h"]).stdout and "--show-completion" in invoke(["-h"]).stdout
    assert "complete -o default -F _scaleplan_completion scaleplan" in invoke(["--show-completion", "bash"]).stdout

    def complete(words):
        env = {"_SCALEPLAN_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
        return invoke([], env=env).stdout.split()

    assert complete("scaleplan allo") == ["allocate"]
    assert complete("scaleplan allocate --total-do") == ["--total-dollars"]


def panels(text: str) -> dict[str, str]:
    """--help's boxes: {panel title: its text}."""
    found = re.split(r"╭─ (\w+) ─+╮", text)
    return dict(zip(found[1::2], found[2::2]))


@pytest.mark.parametrize("command", ["allocate", "plan"])
def test_planning_options_are_grouped_in_panels(command):
    shown = panels(invoke([command, "-h"]).stdout)
    assert {"Budget", "Law", "Model", "Cluster", "Serving", "Output"} <= set(shown)
    for panel, flags in {
        "Budget": ["--flops", "--gpus", "--dollars", "--inference-tokens", "--model"],
        "Law": ["--law", "--ci"],
        "Model": ["--context", "--moe", "--total-params"],
        "Cluster": ["--hardware", "--mfu", "--price", "--tp"],
        "Serving": ["--serve-bits", "--latency", "--batch-cap"],
        "Output": ["--format", "--quiet", "--report", "--force"],
    }.items():
        for flag in flags:
            assert re.search(rf"│ {flag}\b", shown[panel]), f"{command}: {flag} not in the {panel} panel"


def test_option_types_say_what_they_take():
    text = invoke(["allocate", "-h"]).stdout
    assert "TEXT" not in text and "<str>" not in text
    for flag, metavar in {
        "--flops": "FLOPS",
        "--gpus": "COUNT",
        "--dollars": "DOLLARS",
        "--price": "DOLLARS",
        "--mfu": "FRACTION",
        "--model": "PATH",
        "--hardware-file": "PATH",
        "--precision": "bf16|fp8|fp4",
        "--report": "DIR",
    }.items():
        assert re.search(rf"│ {flag}\s+(-\w\s+)?{re.escape(metavar)}\s", text), f"{flag} should show {metavar}"


def test_the_planning_flags_are_one_set():
    """allocate and plan take the same planning flags, from one definition (scaleplan.cli.options.PLANNING)."""
    from scaleplan.cli import options

    def flags(name):
        command = next(c for c in cli.app.registered_commands if cli.command_name(c) == name)
        return set(command.callback.__signature__.parameters)

    assert set(options.PLANNING) <= flags("allocate") and set(options.PLANNING) <= flags("plan")
    assert (flags("allocate") - set(options.PLANNING)) == {"plot", "report", "force", "fmt", "quiet"}
    assert (flags("plan") - set(options.PLANNING)) == {"path", "report", "force", "fmt", "quiet"}


# Numbers as the tables print them, each whole at every width: from JSON of the same runs (Chinchilla's and
# Kaplan's compute-optimal sizes at 1e21 FLOPs, formatted as scaleplan formats counts).
WIDE = [
    (["compare", "chinchilla", "kaplan", "epoch", "--flops", "1e21", "--flops", "1e25"], ["1.82B", "91.4B", "2.329", "33.35x", "1e25"]),
    (["allocate", "--flops", "1e23", "--hardware", "h100", "--gpus", "512"], ["$2.00/h", "70,217", "$140,434"]),
    (["cluster", "--params", "70B", "--tokens", "2T", "--hardware", "a100", "--gpus", "2048", "--days", "35"], ["2,048"]),
]  # fmt: skip


@pytest.mark.parametrize("width", [60, 80, 200])
@pytest.mark.parametrize("args, numbers", WIDE, ids=lambda a: a[0] if isinstance(a[0], str) else None)
def test_numbers_are_never_split_across_lines(width, args, numbers):
    text = invoke(args, width=width).stdout
    tokens = set(re.findall(r"\S+", text))
    for number in numbers:
        if number in text:
            continue
        assert number in tokens, f"{number} split across lines at {width} columns:\n{text}"
    # every number-like word of the table is whole: no line ends in a digit run that the next line continues
    lines = text.splitlines()
    for above, below in zip(lines, lines[1:]):
        assert not (re.search(r"\d[.,]$", above.rstrip()) and re.match(r"\s*\d", below)), (above, below)


def test_a_preset_price_is_assumed_everywhere_and_a_given_price_is_given():
    """One vocabulary: a preset's price is 'assumed' (with its source) in the answer, the cost table and the cluster
    block alike; a price the user gives is 'given'."""
    preset = invoke(["allocate", "--flops", "1e23", "--hardware", "h100", "--gpus", "512", "-f", "json"]).stdout
    data = json.loads(preset)
    assert data["cost"]["price_label"].startswith("$2.00/h, assumed: ")
    text = invoke(["allocate", "--flops", "1e23", "--hardware", "h100", "--gpus", "512"]).stdout
    assert "given" not in text and "$2.00/h, assumed" in text
    cluster = invoke(["cluster", "--params", "7B", "--tokens", "1T", "--hardware", "h100", "--gpus", "64"]).stdout
    assert "given" not in cluster.replace("MFU given", "") and "$2.00/h, assumed" in cluster
    given = invoke(["allocate", "--flops", "1e23", "--hardware", "h100", "--gpus", "512", "--price", "2"]).stdout
    assert "$2.00/h, given" in given and "assumed: Sardana" not in given


def test_every_option_of_every_command_says_what_it_takes():
    """No option shows click's bare type (TEXT, INTEGER, <str>): each has a metavar (FLOPS, COUNT, PATH, ...)."""
    import typer.main

    bare = []

    def walk(command, path):
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])
        for param in command.params:
            if param.param_type_name == "option" and not param.is_flag and not param.metavar:
                bare.append(f"{' '.join(path)} {param.opts[0]}")

    walk(typer.main.get_command(cli.app), [])
    assert not bare, f"options with no metavar: {bare}"
    for command in (["precision"], ["curve", "predict"], ["fit"], ["serve"]):
        options = [line for line in invoke([*command, "-h"]).stdout.splitlines() if re.match(r"│\s+--", line)]
        assert options and not re.search(r"<(str|int|float)>|\bTEXT\b|\bINTEGER\b", "\n".join(options)), command
