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


if __name__ == "__main__":
    if "--update" in sys.argv:
        README.write_text(regenerate(README.read_text()))
