"""The app every command registers on: its consoles, the mapping of user errors to one line and exit code 2,
and the small parsers several command groups share."""

# Annotations stay source text until typer builds the command that runs (scaleplan.cli.main): building all
# ~150 typer.Option objects at import would cost ~2.5 ms of every command's start-up.
from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from typer.core import TyperGroup

from .. import laws as laws_mod
from ..core.errors import ScaleplanError
from ..core.files import check_target
from ..pipeline.budget import Budget
from ..present.render import Format
from ..schema import fields, limits

# Piped or redirected output gets 100 columns (rich would use 80), so tables stay one line per row in files and CI
# logs; a terminal keeps its own width, and COLUMNS still wins.
# markup=False, emoji=False: text prints as it is (a scenario named "x[/]" or "run:100:" is not rich markup or an
# emoji code), and rich's table of emoji codes (~2 ms to import) stays unloaded.
_PIPE_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 100
out = Console(highlight=False, width=_PIPE_WIDTH, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, emoji=False)


# click's UsageError (unknown option, missing argument, bad choice), found without importing click by name: typer
# vendors click from 0.26 on.
_USAGE_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class Group(TyperGroup):
    """Maps user errors to one line on stderr and exit code 2, in one place: the library's ScaleplanError and
    click's usage errors alike."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        evaluate_options(app)  # built without run() (tests, `app([...])`): keep the values for the next build
        from .options import FLAG_METAVAR

        for name, command in self.commands.items():  # what each option takes, not click's type name
            for param in command.params:
                if param.param_type_name == "option" and not param.metavar and not getattr(param, "is_flag", False):
                    flag = param.opts[0]
                    where = f"{self.name} {name}" if self.name in ("laws", "curve") else name
                    param.metavar = FLAG_METAVAR.get(f"{where} {flag}") or FLAG_METAVAR.get(flag)

    def invoke(self, ctx):
        import warnings

        import numpy as np

        from ..core.files import command

        try:  # numpy's and scipy's raw warnings (overflow, divide by zero) never reach the user: results say it
            with warnings.catch_warnings(), np.errstate(all="ignore"), command():
                warnings.simplefilter("ignore")
                return super().invoke(ctx)
        except ScaleplanError as exc:  # the library names arguments; the CLI shows them as flags
            _fail(exc.for_flags())
        except _USAGE_ERROR as exc:
            _usage_error(exc)

    def resolve_command(self, ctx, args):
        name, cmd, rest = super().resolve_command(ctx, args)
        if cmd is not None:
            _refuse_repeats(cmd, rest)
        return name, cmd, rest

    def make_context(self, info_name, args, parent=None, **extra):
        try:  # options of the top level itself are parsed here, before invoke
            return super().make_context(info_name, args, parent=parent, **extra)
        except _USAGE_ERROR as exc:
            _usage_error(exc)


def _fail(message: str):
    """One line on stderr, exit 2: the single way a user's mistake ends a command."""
    err.print(f"scaleplan: error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(2)


def _refuse_repeats(cmd, args) -> None:
    """A single-value option given twice is a mistake, not 'the last one wins' (click's default)."""
    single = {}
    for param in cmd.params:
        if param.param_type_name == "option" and not (param.multiple or param.count or param.is_flag):
            single.update(dict.fromkeys(param.opts, param))
    seen: dict[str, str] = {}
    for arg in args:
        if arg == "--":
            break
        opt = arg.split("=", 1)[0] if arg.startswith("--") else arg
        param = single.get(opt)
        if param is None:
            continue
        if param.name in seen:
            _fail(f"{opt} given twice; give it once (see '{cmd.name} -h')")
        seen[param.name] = opt


def _usage_error(exc):
    message = exc.format_message()
    if message:  # empty when the help was shown instead (no arguments at all)
        where = exc.ctx.command_path if exc.ctx else "scaleplan"
        err.print(f"scaleplan: error: {message} (see '{where} -h')", markup=False, soft_wrap=True)
    raise typer.Exit(2) from None


app = typer.Typer(
    cls=Group,
    help="Plan LLM pre-training compute with the published scaling laws.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    add_completion=True,  # --install-completion, --show-completion (the shell asks the whole app: scaleplan.cli.main)
)


def _version(value: bool):
    if value:
        from .._version import VERSION

        out.print(f"scaleplan {VERSION}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
):
    """Plan LLM pre-training compute with the published scaling laws."""


def warn(warnings, quiet: bool = False, answered: bool = False) -> None:
    """Each warning once on stderr, every extrapolation in one line, coloured where the terminal allows; none under
    --quiet. `answered`: the answer at the top already said what breaks the budget or a limit."""
    if quiet:
        return
    from ..present.render import print_warnings

    print_warnings(err, warnings, with_breaks=not answered)


def show_result(result, fmt: Format, quiet: bool = False) -> None:
    """A planning command's result: the answer first (what breaks the budget or a limit, the model, the run), the
    warnings grouped on stderr, then the full table. --quiet keeps the answer alone (JSON and CSV are the answer:
    they print as ever, every warning in their data)."""
    from ..present.render import emit, print_answer

    human = fmt in (Format.table, Format.markdown)
    print_answer(out, fmt, result)
    warn(result.warnings, quiet, answered=human)
    if not (quiet and human):
        emit(out, fmt, result)


MOE_FLAGS = ("granularity", "expansion", "total_params", "active_params")


def flag_budget(flags: Mapping[str, Any]) -> Budget:
    """The planning flags ({field: value as typed or None}, e.g. a command's `flags` from
    scaleplan.cli.options.budget_options) as a Budget, the schema a budget file also fills: the same parser and
    names. The MoE flags need --moe; the serving roofline's flags (fields.SERVING) are the budget's `inference:`
    block keys of the same names."""
    given = dict(flags)
    moe = bool(given.pop("moe", False))
    moe_spec = {key: given.pop(key, None) for key in MOE_FLAGS}
    if not moe and any(v is not None for v in moe_spec.values()):
        raise ScaleplanError("--granularity, --expansion, --total-params and --active-params need --moe")
    block = roofline_flags(**{key: given.pop(key) for key in fields.SERVING if key in given})
    block = {k: v for k, v in block.items() if v is not None}
    return Budget.from_mapping({**given, "moe": moe_spec if moe else None, "inference": block or None}, flags=True)


def points_flag(points: int) -> int:
    if not 2 <= points <= limits.MAX_OUTPUT_ROWS:
        raise ScaleplanError(f"--points must be from 2 to {limits.MAX_OUTPUT_ROWS:,}, got {points:,}")
    return points


def law_flag(law: str | None):
    """The law of --law (a name or a law file), an error naming --law."""
    try:
        return laws_mod.get(law or laws_mod.DEFAULT_LAW)
    except ScaleplanError as exc:
        text = exc.for_flags()
        raise ScaleplanError(text if text.startswith("--law") else f"--law: {text}") from None


def size_flags(**values) -> list[int | None]:
    """Shape and context sizes by their one parser (scaleplan.schema.fields): whole numbers under the caps of
    scaleplan.schema.limits; None stays None."""
    return [fields.optional(key, value) for key, value in values.items()]


def plotter_for(path: str | None, inputs=(), force: bool = False):
    """The plot module if --plot was given, checked before any work: matplotlib present, a writable .png path."""
    if path is None:
        return None
    check_target(path, inputs, suffix=".png", force=force, what="--plot")
    try:
        import matplotlib  # noqa: F401  (only to give a clear message when it is missing)
    except ImportError:
        raise ScaleplanError("--plot needs matplotlib: pip install 'scaleplan[plot]'") from None
    from ..present import plot

    return plot


def model_size(value, key: str = "params") -> float | None:
    """A parameter count from a flag, inside scaleplan's limits (None when not given)."""
    if value is None:
        return None
    x = fields.parse("params", value, f"<{key}>")
    limits.check_params(x, f"<{key}>")
    return x


def flops_flag(value) -> float | None:
    """A FLOP budget from a flag, inside scaleplan's limits for the default law (None when not given)."""
    if value is None:
        return None
    return float(limits.check_flops(fields.parse("flops", value), "<flops>", laws_mod.get(laws_mod.DEFAULT_LAW)))


def roofline_flags(**flags) -> dict:
    """The serving roofline's flags (scaleplan.schema.fields.SERVING), each by its one parser; None where not given."""
    return {k: fields.optional(k, v) for k, v in flags.items()}


def command_name(info) -> str:
    return info.name or info.callback.__name__.replace("_", "-")


def evaluate_options(typer_app: typer.Typer) -> None:
    """Evaluate the commands' annotations (typer.Option(...) source text) once, in one eval per command, and keep
    the values: typer evaluates each string twice per build (inspect.signature and get_type_hints)."""
    infos = [*typer_app.registered_commands, typer_app.registered_callback, typer_app.info]
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            evaluate_options(group.typer_instance)
    for callback in (getattr(info, "callback", None) for info in infos):
        notes: dict = getattr(callback, "__annotations__", None) or {}
        names = [k for k, v in notes.items() if isinstance(v, str)]
        if callback is not None and names:
            values = eval("(" + ", ".join(notes[k] for k in names) + ",)", callback.__globals__)  # our own source
            notes.update(zip(names, values, strict=True))
