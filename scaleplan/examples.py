"""The example budget files shipped with the package (data/configs/), and writing them out (`scaleplan init`).

The top-level configs/ folder of the source tree holds the same files (tests/test_init.py keeps them identical), so
the README's `scaleplan plan configs/...` examples work from a checkout and, after `scaleplan init`, from a wheel.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from . import _yaml
from .errors import ScaleplanError
from .files import write_files

__all__ = ["example_names", "example_text", "write_examples"]

_FOLDER = _yaml.DATA / "configs"


def example_names() -> list[str]:
    """The bundled example budgets, by name (file name without .yaml)."""
    return sorted(p.stem for p in _FOLDER.glob("*.yaml"))


def example_text(name: str) -> str:
    """One example budget file's text.

    >>> example_text("academic-1e21").splitlines()[0]
    '# An academic run: 1e21 FLOPs on a few nodes of A100s.'
    """
    key = str(name).strip().removesuffix(".yaml")
    names = example_names()
    if key not in names:
        close = difflib.get_close_matches(key, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ScaleplanError(f"unknown example {name!r}{hint} (known: {', '.join(names)})")
    return (_FOLDER / f"{key}.yaml").read_text(encoding="utf-8")


def write_examples(folder: str | Path = "configs", names=None, force: bool = False) -> list[Path]:
    """Write the example budgets (all, or `names`) into `folder`, creating it if its parent exists.

    Refuses, before writing anything, when a target file exists and `force` is false.
    """
    folder = Path(folder)
    chosen = example_names() if not names else [str(n).strip().removesuffix(".yaml") for n in names]
    texts = {name: example_text(name) for name in chosen}  # unknown names fail before any write
    if folder.exists() and not folder.is_dir():
        raise ScaleplanError(f"cannot write examples into {folder}: it is a file")
    if not folder.exists():
        parent = folder.parent if str(folder.parent) else Path(".")
        if not parent.is_dir():
            raise ScaleplanError(f"cannot create {folder}: folder {parent} does not exist")
        folder.mkdir()
    targets = {name: folder / f"{name}.yaml" for name in texts}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not force:
        raise ScaleplanError(f"refusing to overwrite {', '.join(existing)} (use <force>)")
    items = {targets[name]: text for name, text in texts.items()}
    # An example that plans with a law file of its own (laws/NAME.yaml, relative to it) brings that file along.
    for law in sorted((_FOLDER / "laws").glob("*.yaml")):
        if any(f"laws/{law.name}" in text for text in texts.values()):
            (folder / "laws").mkdir(exist_ok=True)
            items[folder / "laws" / law.name] = law.read_text(encoding="utf-8")
    return write_files(items, force=force)
