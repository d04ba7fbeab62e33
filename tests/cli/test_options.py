"""One parser and one cap per shared option: the same bad value gets the same message in every command that takes
the option, in a budget file (as its key) and in the library (as its argument)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import scaleplan
from scaleplan.cli.app import app
from scaleplan.schema import fields, limits

# A valid call of each command, to which one bad option is added.
BASE = {
    "allocate": ["allocate", "--flops", "1e21"],
    "plan": ["plan", "BUDGET"],
    "inference-aware": ["inference-aware", "--flops", "1e21", "--inference-tokens", "1e12"],
    "cluster": ["cluster", "--params", "7B", "--tokens", "1T"],
    "precision": ["precision", "--params", "7B", "--tokens", "1T"],
    "hparams": ["hparams", "--params", "7B", "--tokens", "1T"],
    "serve": ["serve", "--params", "8B"],
    "flops": ["flops", "--layers", "32", "--d-model", "4096", "--heads", "32", "--vocab", "32000"],
}
# option -> (commands that take it, bad values)
SHARED = {
    "--serve-bits": (("allocate", "plan", "inference-aware", "precision", "serve"), ("1", "20", "4.5", "four")),
    "--context": (
        ("allocate", "plan", "inference-aware", "cluster", "hparams", "flops"),
        ("0", "1e9", "2048.5", "abc"),
    ),
    "--micro-batch": (("allocate", "plan", "cluster"), ("0", "100000", "1.5")),
    "--zero": (("allocate", "plan", "cluster"), ("4", "-1", "x")),
    "--gpus": (("allocate", "plan", "cluster"), ("0", "1.5", "1e9")),
    "--precision": (("allocate", "plan", "inference-aware", "cluster"), ("fp16", "")),
    "--recompute": (("allocate", "plan", "cluster"), ("some",)),
    "--mfu": (("allocate", "plan", "inference-aware", "cluster"), ("0", "1.5", "abc")),
}


@pytest.fixture
def budget(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "BUDGET").write_text("flops: 1e21\n")


def message(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, (args, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scaleplan: error: "), result.stderr
    return lines[0].removeprefix("scaleplan: error: ")


@pytest.mark.parametrize(("flag", "value"), [(f, v) for f, (_, values) in SHARED.items() for v in values])
def test_same_bad_value_same_message_in_every_command(budget, flag, value):
    commands, _ = SHARED[flag]
    said = {command: message([*BASE[command], f"{flag}={value}"]) for command in commands}
    assert len(set(said.values())) == 1, said
    text = next(iter(said.values()))
    assert text.startswith(flag), text
    # the library (scaleplan.plan) and a budget file say it with the argument's or key's name
    key = flag.removeprefix("--").replace("-", "_")
    with pytest.raises(scaleplan.ScaleplanError) as caught:
        scaleplan.plan(flops=1e21, **{key: value})
    assert str(caught.value) == text.replace(flag, key, 1)


def test_serve_bits_is_a_whole_number_from_2_to_16_everywhere():
    assert limits.SERVE_BITS == (2, 16)
    assert fields.parse("serve_bits", "4") == 4 and fields.parse("serve_bits", 16) == 16
    for bad in (1, 17, 20, 1.5, "3.5"):
        with pytest.raises(scaleplan.ScaleplanError, match="serve_bits must be a whole number from 2 to 16"):
            fields.parse("serve_bits", bad)
    with pytest.raises(scaleplan.ScaleplanError, match="serve_bits must be a whole number from 2 to 16"):
        scaleplan.precision_report(params=7e9, tokens=1e12, serve_bits=(20,))


def test_one_parameter_cap_everywhere(budget):
    """1e16 parameters is the cap in allocate, cluster and precision alike (precision's own was 1e15)."""
    assert limits.MAX_PARAMS == 1e16
    for command in ("cluster", "precision"):
        ok = CliRunner().invoke(app, [command, "--params", "1e16", "--tokens", "1T"])
        assert ok.exit_code == 0, (command, ok.output)
    said = {
        command: message([command, "--params", "2e16", "--tokens", "1T"])
        for command in ("allocate", "cluster", "precision")
    }
    assert len(set(said.values())) == 1 and "beyond any plan" in said["allocate"], said


def test_precision_of_a_huge_budget_warns_instead_of_refusing():
    """The model a 1e35 budget implies is beyond Sun et al.'s fitted range: said, not refused."""
    result = CliRunner().invoke(app, ["precision", "--flops", "1e35", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert "extrapolating beyond the fitted range: " in result.stderr and "Sun et al. (N = " in result.stderr
