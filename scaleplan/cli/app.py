"""The whole `scaleplan` app, every command group registered: what `--help` lists and what tests drive with typer's
CliRunner (`from scaleplan.cli.app import app`). The console entry (scaleplan.cli.main.run) imports only the group of
the command it runs.

The parts of the CLI: options (each option defined once), base (the app, its consoles, error mapping and shared
parsers), main (the entry point) and the commands by group, each command parse -> one library call -> present.
"""

from __future__ import annotations

# Registration order is the order `scaleplan --help` lists the commands in.
# isort: off
from . import (  # noqa: F401  (importing a group registers its commands)
    plan_commands,
    serve_commands,
    run_commands,
    fit_commands,
    curve_commands,
    config_commands,
    info_commands,
)

# isort: on
from .base import app, command_name, err, out
from .main import run

__all__ = ["app", "command_name", "err", "out", "run"]
