"""The `scaleplan` entry point: import and build only the command named on the line.

typer builds every registered command's options up front (~15 ms for all of them), and importing every command
group costs more again; so `scaleplan allocate ...` imports the one module that holds allocate and registers allocate
alone. Help, --version and unknown names get the whole app (scaleplan.cli.app).
"""

from __future__ import annotations

import sys
from importlib import import_module

from ..core import startup
from .base import app, command_name, evaluate_options

# Which module holds each command (a test checks this against the whole app).
COMMANDS = {
    "allocate": "plan_commands",
    "compare": "plan_commands",
    "plan": "plan_commands",
    "serve": "serve_commands",
    "inference-aware": "serve_commands",
    "cluster": "run_commands",
    "precision": "run_commands",
    "check": "config_commands",
    "export": "config_commands",
    "fit": "fit_commands",
    "sweep": "fit_commands",
    "curve": "curve_commands",
    "laws": "info_commands",
    "hardware": "info_commands",
    "vocab": "info_commands",
    "hparams": "info_commands",
    "flops": "info_commands",
    "init": "info_commands",
}


def run() -> None:
    """`scaleplan ...`: register only the command named on the line; help, --version and unknown names get the
    whole app."""
    argv = sys.argv[1:]
    name = next((a for a in argv if not a.startswith("-")), None)
    module = COMMANDS.get(name or "")
    if module is None or any(a in ("-h", "--help", "--version") for a in argv[:1]):
        import_module(".app", __package__)  # every command, for the top-level help and the "no such command" error
    else:
        import_module(f".{module}", __package__)
        app.registered_commands = [c for c in app.registered_commands if command_name(c) == name]
        app.registered_groups = [g for g in app.registered_groups if g.name == name]
    evaluate_options(app)
    startup.settle()  # what loaded stays out of the garbage collector's scans (scaleplan.core.startup)
    app(prog_name="scaleplan")
