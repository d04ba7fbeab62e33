"""The example budget files shipped with the package (data/configs/), and writing them out (`scaleplan init`).

The top-level configs/ folder of the source tree holds the same files (tests/test_init.py keeps them identical), so
the README's `scaleplan plan configs/...` examples work from a checkout and, after `scaleplan init`, from a wheel.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..core.files import read_text, write_files

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
    return read_text(_FOLDER / f"{key}.yaml", "example file", remember=False)


def write_examples(folder: str | Path = "configs", names=None, force: bool = False) -> list[Path]:
    """Write the example budgets (all, or `names`) into `folder`, creating it if its parent exists.

    Refuses, before writing anything, when a target file exists and `force` is false.
    """
    if str(folder).strip() == "":
        raise ScaleplanError("empty path: give the folder to write the examples into")
    folder = Path(folder)
    chosen = example_names() if not names else [str(n).strip().removesuffix(".yaml") for n in names]
    texts = {name: example_text(name) for name in chosen}  # unknown names fail before any write
    # An example that plans with a law file of its own (laws/NAME.yaml, relative to it) brings that file along.
    laws = [
        law for law in sorted((_FOLDER / "laws").glob("*.yaml")) if any(f"laws/{law.name}" in t for t in texts.values())
    ]
    # All the examples bring the README's other inputs too (a training log for `scaleplan curve fit`, a small runs
    # file for `scaleplan fit`) and the note saying where those come from (SOURCES.md).
    data = sorted([*_FOLDER.glob("*.csv"), *_FOLDER.glob("*.md")]) if not names else []
    made: list[Path] = []  # folders this call created: removed again if the write fails
    try:
        if folder.exists() and not folder.is_dir():
            raise ScaleplanError(f"cannot write examples into {folder}: it is a file")
        targets = {name: folder / f"{name}.yaml" for name in texts}
        existing = [str(p) for p in [*targets.values(), *(folder / d.name for d in data)] if p.exists()]
        if existing and not force:
            raise ScaleplanError(f"refusing to overwrite {', '.join(existing)} (use <force>)")
        if not folder.exists():
            parent = folder.parent if str(folder.parent) else Path(".")
            if not parent.is_dir():
                raise ScaleplanError(f"cannot create {folder}: folder {parent} does not exist")
            _mkdir(folder, made)
        items = {targets[name]: text for name, text in texts.items()}
        if laws:
            _mkdir(folder / "laws", made)
        for law in laws:
            items[folder / "laws" / law.name] = read_text(law, "example file", remember=False)
        for extra in data:
            items[folder / extra.name] = read_text(extra, "example file", remember=False)
        return write_files(items, force=force)
    except OSError as exc:  # checks on the folder itself: permission denied on a parent, a name too long, ...
        _remove(made)
        raise ScaleplanError(f"cannot write examples into {folder}: {exc.strerror or exc}") from None
    except BaseException:
        _remove(made)
        raise


def _mkdir(folder: Path, made: list[Path]) -> None:
    """Create `folder` (its parent exists) unless it is there; a failure is one line naming the folder."""
    if folder.is_dir():
        return
    try:
        folder.mkdir()
    except FileExistsError:
        raise ScaleplanError(f"cannot write examples into {folder}: it is a file") from None
    except OSError as exc:
        raise ScaleplanError(f"cannot create folder {folder}: {exc.strerror or exc}") from None
    made.append(folder)


def _remove(made: list[Path]) -> None:
    """Remove the folders a failed call created (only if empty: a file in them is not ours to delete)."""
    for folder in reversed(made):
        try:
            folder.rmdir()
        except OSError:
            pass
