"""The console entry (`scaleplan`, `python -m scaleplan`) builds only the command it runs; help still lists all."""

import subprocess
import sys

import pytest

from scaleplan.cli import app as cli
from scaleplan.cli import main


def scaleplan(*args):
    return subprocess.run([sys.executable, "-m", "scaleplan", *args], capture_output=True, text=True, timeout=60)


def test_a_command_runs_from_the_entry():
    result = scaleplan("allocate", "--flops", "1e21", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert '"law": "epoch"' in result.stdout


def test_help_lists_every_command():
    result = scaleplan("-h")
    assert result.returncode == 0
    for command in ("allocate", "compare", "plan", "inference-aware", "fit", "sweep", "laws", "curve", "cluster"):
        assert command in result.stdout


def test_an_unknown_command_is_one_line():
    result = scaleplan("nonsense")
    assert result.returncode == 2 and "No such command" in result.stderr and "Traceback" not in result.stderr


def test_the_entry_registers_only_the_named_command(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["scaleplan", "hardware", "-f", "json"])
    commands, groups = list(cli.app.registered_commands), list(cli.app.registered_groups)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main.run()
        assert exit_info.value.code in (0, None)
        assert [cli.command_name(c) for c in cli.app.registered_commands] == ["hardware"]
    finally:
        cli.app.registered_commands, cli.app.registered_groups = commands, groups
