"""The README's tour is real output: every ```console block starting with `$ scaleplan ...` is rerun here.

Regenerate after changing output:  python tests/test_readme.py --update
"""

import os
import re
import shlex
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```console\n\$ (scaleplan [^\n]*)\n(.*?)```", re.S)
WIDTH = 100


def run(command: str) -> str:
    from typer.testing import CliRunner

    from scaleplan.cli import app as cli

    args = shlex.split(command)[1:]
    old = cli.out.width, cli.err.width
    cli.out.width = cli.err.width = WIDTH
    try:
        result = CliRunner().invoke(cli.app, args)
    finally:
        cli.out.width, cli.err.width = old
    assert result.exit_code == 0, f"{command}: {result.stderr}"
    text = "\n".join(line.rstrip() for line in result.stdout.rstrip().splitlines())
    if result.stderr.strip():
        text += "\n" + result.stderr.rstrip()
    return text + "\n"


def regenerate(text: str) -> str:
    return BLOCK.sub(lambda m: f"```console\n$ {m.group(1)}\n{run(m.group(1))}```", text)


SHARED = README.parent.parent / "shared"


def test_readme_tour_output_is_current():
    text = README.read_text()
    blocks = BLOCK.findall(text)
    assert len(blocks) >= 6
    for command, shown in blocks:
        if "../shared/" in command and not SHARED.is_dir():
            # the published data is not beside this checkout; CI (SCALEPLAN_REQUIRE_SHARED=1) may not skip it
            assert os.environ.get("SCALEPLAN_REQUIRE_SHARED", "") in ("", "0"), f"`{command}` needs ../shared"
            continue
        assert run(command) == shown, f"README output of `{command}` is stale: python tests/test_readme.py --update"


def test_readme_has_exactly_the_two_setup_commands():
    text = README.read_text()
    assert "pip install -e . && scaleplan allocate --flops 1e21" in text
    assert "pip install -e '.[test]' && pytest" in text


INDEX_HEADING = "## Start here: a task, a command"
COMMAND = re.compile(r"`((?:scaleplan|python -c) [^`]*)`")


def index_commands(text: str | None = None) -> list[str]:
    """The commands of the README's task index, in order (the first writes the example files the others read)."""
    text = README.read_text() if text is None else text
    start = text.index(INDEX_HEADING)
    end = text.index("\n## ", start + len(INDEX_HEADING))
    rows = [line for line in text[start:end].splitlines() if line.startswith("| ") and "`" in line]
    return [c for line in rows for c in COMMAND.findall(line.split(" | ", 1)[1])]


# The nine tasks of issue #26, each answered by a line of the index (a word of its task, a word of its command).
NINE_TASKS = [
    ("$2M of H100", "--dollars 2M --hardware h100"),
    ("five laws", "compare epoch chinchilla-tex kaplan porian deepseek --flops 1e24"),
    ("limited data", "--unique-tokens"),
    ("DeepSeek-V3-like MoE", "--total-params 671B --active-params 37B"),
    ("your own runs", "scaleplan fit configs/sample-runs.csv"),
    ("training curve", "scaleplan curve fit"),
    ("FP8 vs BF16", "scaleplan precision"),
    ("notebook", "np.geomspace"),
    ("report to share", "--report"),
]


def test_index_answers_the_nine_tasks_one_line_each():
    text = README.read_text()
    start = text.index(INDEX_HEADING)
    section = text[start : text.index("\n## ", start + 1)]
    for task, command in NINE_TASKS:
        lines = [line for line in section.splitlines() if task in line]
        assert len(lines) == 1 and command in lines[0], f"the index has no one line for {task!r} with `{command}`"
    assert text.index(INDEX_HEADING) < text.index("## The default law, and why")  # the index before the reference
    # its links to the reference sections lead somewhere (GitHub's anchors: lower case, punctuation dropped)
    anchors = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in re.findall(r"^## (.+)$", text, re.M)}
    links = re.findall(r"\]\(#([^)]+)\)", section)
    assert len(links) >= 10 and not set(links) - anchors, sorted(set(links) - anchors)


def test_package_data_globs_ship_every_data_file():
    """What a wheel holds: every non-Python file in the package matches a package-data glob of pyproject.toml (the
    wheel itself is built and the index run from it in .ci/run)."""
    import fnmatch
    import tomllib

    root = README.parent / "scaleplan"
    meta = tomllib.loads((README.parent / "pyproject.toml").read_text())
    globs = meta["tool"]["setuptools"]["package-data"]["scaleplan"]
    files = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    data = [f for f in files if not f.endswith((".py", ".pyc")) and "__pycache__" not in f]
    assert "data/configs/sample-runs.csv" in data and "data/configs/SOURCES.md" in data
    unshipped = [f for f in data if not any(fnmatch.fnmatch(f, g) and f.count("/") == g.count("/") for g in globs)]
    assert not unshipped, f"package files no package-data glob ships: {unshipped}"


def test_index_commands_run_in_a_clean_folder(tmp_path, monkeypatch, capsys):
    """Every index command, in order, in an empty folder: the files they read are the package's own (written by
    `scaleplan init` from the package data), never the source tree's. In-process (CliRunner, exec) to keep the
    suite fast; .ci/run runs the same list from a wheel installed in a fresh venv."""
    from typer.testing import CliRunner

    from scaleplan.cli import app as cli
    from scaleplan.present import plot_style

    commands = index_commands()
    assert commands[0] == "scaleplan init" and len(commands) >= 20
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(plot_style, "png", lambda fig: b"\x89PNG\r\n\x1a\n")  # drawn, not encoded (test_plot's job)
    runner = CliRunner()
    for command in commands:
        if command.startswith("python -c "):
            code = shlex.split(command)[2]
            exec(compile(code, command, "exec"), {})
            assert capsys.readouterr().out.strip(), command
            continue
        result = runner.invoke(cli.app, shlex.split(command)[1:])
        assert result.exit_code == 0, f"{command}: {result.stderr or result.output}"
        assert result.stdout.strip() or result.stderr.strip(), command
    assert (tmp_path / "startup-report" / "README.md").is_file()


def test_from_python_blocks_run(tmp_path, monkeypatch):
    """The README's Python examples run as written (after `scaleplan init`, in an empty folder)."""
    from typer.testing import CliRunner

    from scaleplan.cli import app as cli

    text = README.read_text()
    section = text[text.index("## From Python") : text.index("\n## ", text.index("## From Python") + 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) >= 2 and "from scaleplan import plot" in section
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(cli.app, ["init"]).exit_code == 0
    from scaleplan.present import plot_style

    # the figures are drawn, not encoded: PNG encoding is tests/test_plot.py's (and costs seconds here)
    monkeypatch.setattr(plot_style, "png", lambda fig: b"\x89PNG\r\n\x1a\n")
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert [p.name for p in sorted(tmp_path.glob("*.png"))] == ["fit.png", "plan.png", "serve.png", "valley.png"]
    assert (tmp_path / "startup-report" / "README.md").read_text().startswith("# Training plan: startup-2m-dollars")
    flops = [p.flops for p in namespace["plans"]]
    assert flops == [1e21, 1e22, 1e23]


if __name__ == "__main__":
    if "--update" in sys.argv:
        README.write_text(regenerate(README.read_text()))
    if "--index" in sys.argv:  # the task index's commands, one a line (.ci/run runs them from a wheel install)
        print("\n".join(index_commands()))


def _where_block(text: str) -> str:
    start = text.index("- **Where things are.**")
    fence = text.index("```\n", start)
    return text[fence + 4 : text.index("```", fence + 4)]


def test_where_things_are_names_every_module():
    """The README's map of the package (Contributing, "Where things are") names every module of every part, and
    nothing that is not there: a module added, moved or split gets its line (the map is the tree, not a memory)."""
    block = _where_block(README.read_text())
    package = README.parent / "scaleplan"
    listed: dict[str, set[str]] = {}
    part = None
    for line in block.splitlines():
        m = re.match(r"^    (\w+)/\s", line)  # a part, in the list item's indented block
        if m:
            part = m.group(1)
            listed.setdefault(part, set())
        if part is not None:
            listed[part] |= set(re.findall(r"\b([a-z_][a-z0-9_]*\.py)\b", line))
    parts = {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert set(listed) - {"data"} == parts, f"parts in the map {sorted(listed)} vs the package {sorted(parts)}"
    for name in parts:
        actual = {f.name for f in (package / name).glob("*.py") if f.name != "__init__.py"}
        named = listed[name] - {"__init__.py"}
        assert named == actual, (
            f"README 'Where things are', {name}/: add {sorted(actual - named)}, remove {sorted(named - actual)}"
        )
