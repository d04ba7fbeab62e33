"""YAML: the package's own data files (fast, trusted) and a user's files (checked before they are built).

A user's file is composed into a node tree first and walked once: duplicate keys, recursive aliases and alias
"bombs" (a few lines that expand to billions of nodes) are refused there, with the file and line, before
anything is constructed.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import re
from pathlib import Path
from typing import Any

from .errors import ScaleplanError

DATA = Path(__file__).parent.parent / "data"
MAX_USER_BYTES = 1_000_000  # 1 MB: budget and law files are a few kB; a larger one is a mistake
MAX_NODES = 100_000  # nodes after alias expansion
MAX_DEPTH = 100  # nesting: a budget or law file needs four levels; walkers of the tree recurse


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
        if len(ancestors) > MAX_DEPTH:
            raise ScaleplanError(
                f"{path}:{node.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep; "
                "a budget or law file needs a few"
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
                    _refuse_yaml11_number(value, path, f"{key.value}: ")
                stack.append((key, inner))
                stack.append((value, inner))
        elif isinstance(node, yaml.SequenceNode):
            inner = ancestors | {id(node)}
            for item in node.value:
                _refuse_yaml11_number(item, path)
            stack.extend((item, inner) for item in node.value)


_OCTAL = re.compile(r"[-+]?0[0-7_]+")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?")


def _refuse_yaml11_number(node, path, key: str = "") -> None:
    """YAML 1.1 reads `010` as 8 (octal) and `1:30` as 90 (base 60): a person means neither. Refuse them (plain
    scalars only: a quoted '010' is text), with the file, line and key, and say how to write what was meant."""
    yaml, _ = _yaml()
    if not isinstance(node, yaml.ScalarNode) or node.style:  # plain style: None (Python composer) or "" (libyaml)
        return
    value, where = node.value, f"{path}:{node.start_mark.line + 1}: {key}"
    if node.tag.endswith(":int") and _OCTAL.fullmatch(value):
        raise ScaleplanError(
            f"{where}{value} is an octal number in YAML 1.1 ({int(value.replace('_', ''), 8):,}); "
            f"write {value.lstrip('+-0_') or '0'}, or quote it if it is text"
        )
    if node.tag.endswith((":int", ":float")) and _SEXAGESIMAL.fullmatch(value):
        raise ScaleplanError(
            f"{where}{value} is a base-60 number in YAML 1.1; write the number itself (1.5 for one and a half), "
            "or quote it if it is text"
        )


_USER_LOADER: list = []


def _user_loader():
    """The safe loader with YAML 1.2's float rule added: `1e15` and `4.8e2` are numbers in a user's file, as in
    budget files and on the command line (YAML 1.1, PyYAML's rule, wants `1.0e+15` and reads `1e15` as text)."""
    if not _USER_LOADER:
        _, base = _yaml()

        class UserLoader(base):  # type: ignore[misc, valid-type]
            pass

        UserLoader.add_implicit_resolver(
            "tag:yaml.org,2002:float",
            re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
            list("-+0123456789."),
        )
        _USER_LOADER.append(UserLoader)
    return _USER_LOADER[0]


def compose_user(text: str, path, floats_12: bool = True):
    """The checked node tree of a user's YAML text (None for an empty document). `floats_12`: `1e15` is a number
    (budget files read every quantity as text through the CLI's own parser, so their messages echo what was typed)."""
    yaml, plain = _yaml()
    loader = _user_loader() if floats_12 else plain
    try:
        tree = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise invalid(exc, path) from None
    except RecursionError:
        raise ScaleplanError(f"{path}: nested too deeply to be a budget or law file") from None
    if tree is not None:
        _check_tree(tree, path)
    return tree


def load_user(text: str, path, tree=None, floats_12: bool = True):
    """Parse a user's YAML text, with a message naming the file and line instead of a traceback."""
    if tree is None:
        tree = compose_user(text, path, floats_12)
    yaml, plain = _yaml()
    try:
        return yaml.load(text, Loader=_user_loader() if floats_12 else plain)
    except yaml.YAMLError as exc:
        raise invalid(exc, path) from None
    except RecursionError:
        raise ScaleplanError(f"{path}: nested too deeply to be a budget or law file") from None


def read_user(path, kind: str) -> tuple[object, object]:
    """(data, node tree) of a user's YAML file: `kind` names it in messages ('budget file', 'law file')."""
    from .files import read_text

    text = read_text(path, kind, max_bytes=MAX_USER_BYTES)
    floats_12 = kind != "budget file"
    tree = compose_user(text, path, floats_12)
    return load_user(text, path, tree, floats_12), tree


def _cache_dir() -> Path:
    """$XDG_CACHE_HOME/scaleplan/data, by default ~/.cache/scaleplan/data."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scaleplan" / "data"


_CACHE_FORMAT = b"scaleplan-data-cache-2"
_CACHE_MAX_BYTES = 16 * 1024 * 1024  # the parsed data files are ~100 kB; a larger entry is not one of ours
_PLAIN = (str, int, float, bool, type(None))


def _plain(value, depth: int = 0) -> bool:
    """True if `value` is what YAML's safe loader builds from a data file: dicts, lists and scalars."""
    if depth > 50:
        return False
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, _PLAIN) and _plain(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    return False


def _cache_key(raw: bytes) -> str:
    from _blake2 import blake2b  # hashlib pulls in OpenSSL (~10 ms); the built-in BLAKE2 costs ~0.2 ms

    from .._version import VERSION

    return blake2b(_CACHE_FORMAT + VERSION.encode() + b"\0" + raw, digest_size=16).hexdigest()


def _cached(entry: Path, key: str):
    """The value an entry holds if it is one of ours for this key, else None: a FIFO, a folder, a truncated, foreign
    or tampered entry is a miss, never an error and never a wait."""
    from .files import read_bytes

    try:
        blob = read_bytes(entry, "cache entry", _CACHE_MAX_BYTES, remember=False)
        value = marshal.loads(blob)
    except Exception:
        return None
    if not (isinstance(value, tuple) and len(value) == 3 and value[0] == _CACHE_FORMAT and value[1] == key):
        return None
    data = value[2]
    return data if isinstance(data, dict) and _plain(data) else None


def _store(entry: Path, key: str, data) -> None:
    """Write an entry atomically; any failure leaves no file behind (and the next run parses again)."""
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}.{id(data):x}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        blob = marshal.dumps((_CACHE_FORMAT, key, data))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, blob)
        finally:
            os.close(fd)
        os.replace(tmp, entry)  # over a stale file or a FIFO; a folder in the way refuses, and tmp goes
    except (OSError, ValueError):  # unwritable cache, or data marshal cannot hold: parse next time too
        try:
            tmp.unlink()
        except OSError:
            pass


_OVERRIDES: dict[str, Any] = {}  # resolved path -> data: a drifted copy of a bundled file (checks_constants.drifted)


@contextlib.contextmanager
def overridden(path: Path, data):
    """Within the block, `read(path)` gives (a fresh copy of) `data` instead of the file: a drifted copy of a bundled
    file, in-process (checks_constants.drifted)."""
    key = str(Path(path).resolve())
    _OVERRIDES[key] = data
    try:
        yield
    finally:
        del _OVERRIDES[key]


def read(path: Path):
    """The package's own data file, parsed. Parsing YAML costs ~5 ms a file (and ~10 ms to import PyYAML), so the
    parsed data is kept in the user's cache folder (`_cache_dir()`) as marshal (plain dicts, lists, numbers and
    strings; loads in ~0.1 ms), keyed by a hash of the file's bytes and the package version. An entry is used only
    if it decodes to a value of this key and of plain YAML types; anything else, and a cache that cannot be read or
    written, means the file is parsed as usual."""
    from .files import read_bytes

    path = Path(path)
    if _OVERRIDES and str(path.resolve()) in _OVERRIDES:
        return marshal.loads(marshal.dumps(_OVERRIDES[str(path.resolve())]))  # a fresh copy each read, as below
    raw = read_bytes(path, "data file", remember=False)
    key = _cache_key(raw)
    entry = _cache_dir() / f"{path.parent.name}-{path.stem}-{key}.marshal"
    data = _cached(entry, key)
    if data is not None:
        return data
    data = load(raw.decode("utf-8"))
    if isinstance(data, dict):
        _store(entry, key, data)
    return data
