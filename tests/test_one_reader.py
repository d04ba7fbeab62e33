"""One way in and out: every file the package reads goes through files.read_bytes/read_text (regular files only,
size-capped, never a FIFO or a device) and every file it writes through files.write_atomic/write_files (checked
against the command's inputs, atomic). This test walks the package's source and fails on any other file access."""

from __future__ import annotations

import ast
from pathlib import Path

import scaleplan

PACKAGE = Path(scaleplan.__file__).parent
# The reader and writer themselves, and the data cache (which reads its entries through the reader, and writes its
# own entries with os.open/os.replace, never a user's file).
ALLOWED = {"files.py", "_yaml.py"}
# Path methods and module functions that touch a file by name.
ATTRIBUTES = {"read_text", "read_bytes", "write_text", "write_bytes", "open", "loadtxt", "genfromtxt", "fromfile"}
MODULE_CALLS = {
    ("json", "load"),
    ("json", "dump"),
    ("np", "load"),
    ("numpy", "load"),
    ("np", "save"),
    ("np", "savez"),
    ("np", "savetxt"),
    ("os", "open"),
    ("io", "open"),
    ("shutil", "copy"),
    ("shutil", "copyfile"),
    ("yaml", "safe_dump_all"),
}


def _offences(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id == "open":
            found.append((node.lineno, "open()"))
        elif isinstance(f, ast.Attribute):
            owner = f.value.id if isinstance(f.value, ast.Name) else None
            if owner == "files":  # scaleplan.core.files' own reader and writer
                continue
            if (owner, f.attr) in MODULE_CALLS:
                found.append((node.lineno, f"{owner}.{f.attr}()"))
            elif f.attr in ATTRIBUTES and owner not in ("importlib", "resources"):
                found.append((node.lineno, f".{f.attr}()"))
            elif (
                f.attr == "savefig"
                and node.args
                and not (isinstance(node.args[0], ast.Name) and node.args[0].id == "buf")
            ):
                found.append((node.lineno, "savefig(<a path>)"))
    return found


def test_every_read_and_write_goes_through_files():
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ALLOWED and path.parent == PACKAGE / "core":
            continue
        for line, what in _offences(ast.parse(path.read_text(encoding="utf-8"))):
            offences.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {what}")
    assert not offences, "file access outside scaleplan/core/files.py:\n" + "\n".join(offences)


def test_the_walker_finds_each_kind_of_access():
    source = (
        "open('x')\nPath('x').read_text()\np.read_bytes()\np.write_text('y')\nnp.load('x')\njson.load(h)\n"
        "np.loadtxt('x')\nos.open('x', 0)\nfig.savefig('out.png')\nfiles.read_text('x')\nfig.savefig(buf)\n"
    )
    lines = [line for line, _ in _offences(ast.parse(source))]
    assert lines == [1, 2, 3, 4, 5, 6, 7, 8, 9]


def test_the_version_constant_is_the_installed_version():
    from importlib.metadata import version

    from scaleplan._version import VERSION

    assert VERSION == version("scaleplan")
