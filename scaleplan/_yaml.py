"""YAML: the package's own data files (fast, trusted) and a user's files (checked before they are built).

A user's file is composed into a node tree first and walked once: duplicate keys, recursive aliases and alias
"bombs" (a few lines that expand to billions of nodes) are refused there, with the file and line, before
anything is constructed.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path
from typing import Any

from .errors import ScaleplanError

DATA = Path(__file__).with_name("data")
MAX_USER_BYTES = 1024 * 1024  # budget and law files are a few kB; a larger one is a mistake
MAX_NODES = 100_000  # nodes after alias expansion


def _yaml():
    """PyYAML and its fastest safe loader, imported on first use (~10 ms, which most commands never pay)."""
    import yaml

    try:  # libyaml's loader is ~10x faster than the pure-Python one; fall back where PyYAML was built without it
        return yaml, yaml.CSafeLoader
    except AttributeError:  # pragma: no cover
        return yaml, yaml.SafeLoader


def load(text: str):
    yaml, loader = _yaml()
    return yaml.load(text, Loader=loader)


def invalid(exc, path) -> ScaleplanError:
    """A user's file is not YAML: 'runs.yaml:3: not valid YAML (...)'."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}:{mark.line + 1}" if mark else str(path)
    return ScaleplanError(f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})")


def _check_tree(root, path) -> None:
    """Refuse duplicate keys, recursive aliases and expansion beyond MAX_NODES, walking the composed tree."""
    yaml, _ = _yaml()
    count = 0
    stack: list[tuple[Any, frozenset]] = [(root, frozenset())]
    while stack:
        node, ancestors = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ScaleplanError(
                f"{path}: more than {MAX_NODES:,} values once aliases are expanded; "
                "a budget or law file needs a few dozen"
            )
        if id(node) in ancestors:
            raise ScaleplanError(f"{path}:{node.start_mark.line + 1}: an alias refers to itself (recursive YAML)")
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            inner = ancestors | {id(node)}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    line = key.start_mark.line + 1
                    if key.value in seen:
                        raise ScaleplanError(
                            f"{path}:{line}: duplicate key {key.value!r} "
                            f"(first on line {seen[key.value]}); give each key once"
                        )
                    seen[key.value] = line
                stack.append((key, inner))
                stack.append((value, inner))
        elif isinstance(node, yaml.SequenceNode):
            inner = ancestors | {id(node)}
            stack.extend((item, inner) for item in node.value)


def compose_user(text: str, path):
    """The checked node tree of a user's YAML text (None for an empty document)."""
    yaml, loader = _yaml()
    try:
        tree = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise invalid(exc, path) from None
    except RecursionError:
        raise ScaleplanError(f"{path}: nested too deeply to be a budget or law file") from None
    if tree is not None:
        _check_tree(tree, path)
    return tree


def load_user(text: str, path, tree=None):
    """Parse a user's YAML text, with a message naming the file and line instead of a traceback."""
    if tree is None:
        tree = compose_user(text, path)
    yaml, _ = _yaml()
    try:
        return load(text)
    except yaml.YAMLError as exc:
        raise invalid(exc, path) from None
    except RecursionError:
        raise ScaleplanError(f"{path}: nested too deeply to be a budget or law file") from None


def read_user(path, kind: str) -> tuple[object, object]:
    """(data, node tree) of a user's YAML file: `kind` names it in messages ('budget file', 'law file')."""
    from .files import read_text

    text = read_text(path, kind, max_bytes=MAX_USER_BYTES)
    tree = compose_user(text, path)
    return load_user(text, path, tree), tree


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scaleplan" / "data"


_OVERRIDES: dict[str, Any] = {}  # resolved path -> data: a drifted copy of a bundled file (checks.drifted)


def read(path: Path):
    """The package's own data file, parsed. Parsing YAML costs ~5 ms a file (and ~10 ms to import PyYAML), so the
    parsed data is kept in the user's cache folder as marshal (plain dicts, lists, numbers and strings; loads in
    ~0.1 ms), keyed by the file's name, size and modification time. A cache that cannot be read or written is
    skipped: the file is parsed as usual."""
    path = Path(path)
    if _OVERRIDES and str(path.resolve()) in _OVERRIDES:
        return marshal.loads(marshal.dumps(_OVERRIDES[str(path.resolve())]))  # a fresh copy each read, as below
    try:
        info = path.stat()
        cached = _cache_dir() / f"{path.parent.name}-{path.stem}-{info.st_size}-{info.st_mtime_ns}.marshal"
        return marshal.loads(cached.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        pass
    data = load(path.read_text(encoding="utf-8"))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps(data))
        os.replace(tmp, cached)
    except (OSError, ValueError, NameError):  # unwritable cache, or data marshal cannot hold: parse next time too
        pass
    return data
