"""What `scaleplan allocate` builds and loads at start-up (the structure the benchmark's figures rest on; no timing)."""

import json
import subprocess
import sys

from typer.testing import CliRunner

from scaleplan.cli.app import app, command_name

PROBE = """
import io, json, sys
from contextlib import redirect_stdout
at_start = set(sys.modules)  # what the interpreter's own start-up imported (site hooks may load tempfile)
sys.argv = ["scaleplan", "allocate", "--flops", "1e21"]
from scaleplan.cli import main
with redirect_stdout(io.StringIO()):
    try:
        main.run()
    except SystemExit:
        pass
from scaleplan.cli import plan_commands as cli
print(json.dumps({
    "modules": sorted(set(sys.modules) - at_start),
    "allocate": [type(v).__name__ for v in cli.allocate.__annotations__.values()],
    "compare": [type(v).__name__ for v in cli.compare.__annotations__.values()],
}))
"""


def probe() -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_allocate_builds_only_its_own_options_and_no_emoji_table():
    seen = probe()
    assert "str" not in seen["allocate"]  # the command that ran: its typer options were evaluated
    assert set(seen["compare"]) == {"str"}  # the others stay source text
    assert "rich._emoji_codes" not in seen["modules"]  # ~3,600 emoji codes scaleplan never prints
    assert "tempfile" not in seen["modules"]  # only commands that write files need it
    # only allocate's group is imported: the other command modules stay unread
    assert "scaleplan.cli.plan_commands" in seen["modules"]
    others = {m for m in seen["modules"] if m.startswith("scaleplan.cli.") and m.endswith("_commands")}
    assert others == {"scaleplan.cli.plan_commands"}, others
    assert "scaleplan.cli.app" not in seen["modules"]


def test_every_command_is_mapped_to_its_module():
    """The entry's table (scaleplan.cli.main.COMMANDS) names the module that registers each command of the app."""
    from scaleplan.cli import main

    registered = {command_name(c): c.callback.__module__ for c in app.registered_commands}
    registered |= {g.name: g.typer_instance.registered_callback.callback.__module__ for g in app.registered_groups}
    assert {name: f"scaleplan.cli.{module}" for name, module in main.COMMANDS.items()} == registered


def test_names_print_as_given(tmp_path):
    """rich would print "run:100:" as "run💯" (an emoji code) and stop at "x[/]" with a MarkupError traceback;
    scaleplan's consoles print text as it is."""
    budget = tmp_path / "b.yaml"
    budget.write_text('scenarios:\n  - {name: "run:100:", flops: 1e21}\n  - {name: "x[/]", flops: 1e22}\n')
    result = CliRunner().invoke(app, ["plan", str(budget)])
    assert result.exit_code == 0, result.output
    assert "run:100:" in result.output and "x[/]" in result.output
    assert "\N{HUNDRED POINTS SYMBOL}" not in result.output
