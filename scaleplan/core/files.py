"""Files a user gives and files scaleplan writes: read defensively, written atomically, never over an input.

Reading: a path must name a regular, non-empty UTF-8 text file under a size cap (a folder, a device, a binary
file or a huge file is one clear line, before any parsing). Writing: every output path is checked before any long
work (empty, name too long, parent missing or a file, not writable, an existing file without `force`, one of the
command's inputs even with `force`); then the data goes to a temporary file in the same folder and is renamed into
place, so a failed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .errors import ScaleplanError

MAX_TEXT_BYTES = 50_000_000  # 50 MB (the README's unit): a runs file of ~1.6M rows; budget and law files: lower


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _label(what: str, path) -> str:
    """'--plot out.png' or 'out.png': the flag (if any) and the path as the user typed it."""
    return f"{what} {path}" if what else str(path)


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.0f} kB"


# Every file a command read (resolved): inside a `command()` scope, writers refuse these, even with `force`, so an
# input can never be an output (a hardware file inside a --report folder, a runs file given as --save).
_INPUTS: dict[str, Path] = {}
_DEPTH = [0]


@contextlib.contextmanager
def command():
    """The scope of one command: files read inside it are its inputs, which no write inside it may replace. The CLI
    runs every command in one; a scope inside another is the same scope."""
    _DEPTH[0] += 1
    try:
        yield
    finally:
        _DEPTH[0] -= 1
        if not _DEPTH[0]:
            _INPUTS.clear()


def inputs_read() -> tuple[Path, ...]:
    """The files the current command has read through `read_bytes` (every input, whichever option named it)."""
    return tuple(_INPUTS.values())


def note_input(path: str | Path) -> None:
    """Count `path` among the current command's inputs (for a file a cache spared reading again)."""
    if not _DEPTH[0]:
        return
    p = Path(path)
    try:
        key = str(p.resolve())
    except (OSError, RuntimeError):
        key = os.path.abspath(p)
    if len(_INPUTS) < 10_000:
        _INPUTS.setdefault(key, Path(key))


def read_bytes(
    path: str | Path, kind: str = "file", max_bytes: int = MAX_TEXT_BYTES, *, remember: bool = True
) -> bytes:
    """The bytes of a regular file under `max_bytes`, or a ScaleplanError naming the path and what is wrong.

    The file is opened without blocking and checked on the open descriptor, so a FIFO, a device or a file swapped
    for one after a check is refused, never waited on; at most `max_bytes` are read whatever the size claims.
    """
    if str(path).strip() == "":
        raise ScaleplanError(f"empty path: give the {kind}'s name")
    if "\x00" in str(path):
        raise ScaleplanError(f"{path!r}: a file name cannot hold a NUL character")
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ScaleplanError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ScaleplanError(f"{path}: is a folder; give a {kind}") from None
    except OSError as exc:
        raise ScaleplanError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ScaleplanError(f"{path}: is a folder; give a {kind}")
        if not stat.S_ISREG(info.st_mode):
            raise ScaleplanError(f"{path}: not a regular file; give a {kind}")
        if info.st_size > max_bytes:
            raise ScaleplanError(f"{path}: {_mb(info.st_size)} is larger than a {kind} may be ({_mb(max_bytes)})")
        chunks = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise ScaleplanError(f"{path}: cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > max_bytes:
        raise ScaleplanError(f"{path}: larger than a {kind} may be ({_mb(max_bytes)})")
    if remember:
        note_input(p)
    return raw


def read_text(path: str | Path, kind: str = "file", max_bytes: int = MAX_TEXT_BYTES, *, remember: bool = True) -> str:
    """The text of a user's input file, or a ScaleplanError naming the path and what is wrong with it."""
    return read_text_and_bytes(path, kind, max_bytes, remember=remember)[0]


def read_text_and_bytes(
    path: str | Path, kind: str = "file", max_bytes: int = MAX_TEXT_BYTES, *, remember: bool = True
) -> tuple[str, bytes]:
    """(text, raw bytes) of a user's input file: read_text's checks, and the bytes for a bulk parser or a hash."""
    raw = read_bytes(path, kind, max_bytes, remember=remember)
    if b"\x00" in raw:
        raise ScaleplanError(f"{path}: a binary file, not a text {kind}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScaleplanError(f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    if not text or text.isspace():
        raise ScaleplanError(f"{path}: empty {kind}")
    return text, raw


def read_json(path: str | Path, kind: str = "JSON file", max_bytes: int = MAX_TEXT_BYTES):
    """A user's JSON file, parsed: 'plan.json:3: not valid JSON (Expecting value)' instead of a traceback."""
    import json

    text = read_text(path, kind, max_bytes)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ScaleplanError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise ScaleplanError(f"{path}: nested too deeply to be a {kind}") from None
    except ScaleplanError as exc:
        raise ScaleplanError(f"{path}: {exc.template}") from None


def numbers_table(text: str | bytes, delimiter: str, usecols: list[int], skip_rows: int = 1):
    """Columns `usecols` of a delimited text already read, as a float array (rows, len(usecols)), parsed in bulk by
    numpy's C reader (a 1.6M-row, 50 MB runs file in ~1 s); None when any row needs the careful, row-by-row reader
    (quotes, a blank or text cell, a ragged row), which then gives the message naming the row and column."""
    import io
    import warnings

    import numpy as np

    data = text.encode("utf-8") if isinstance(text, str) else text  # numpy reads bytes ~30% faster, in half the memory
    if b'"' in data or b"#" in data:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = np.loadtxt(
                io.BytesIO(data),
                encoding=None,
                delimiter=delimiter,
                skiprows=skip_rows,
                usecols=usecols,
                dtype=float,
                ndmin=2,
                comments=None,
            )
    except (ValueError, TypeError, IndexError):
        return None
    return table if table.shape[1] == len(usecols) and table.shape[0] > 0 else None


def _no_constant(name: str):
    raise ScaleplanError(f"JSON has no {name}; write null for a missing number")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def probe_writable(folder: Path, shown) -> None:
    """Create and remove a temporary file: the one check that sees read-only file systems, ACLs and quotas."""
    import tempfile  # only commands that write files need it (~0.4 ms at start-up)

    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".scaleplan-probe-")
    except OSError as exc:
        raise ScaleplanError(f"{shown}: cannot write in folder {folder} ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(tmp)


def check_target(
    path: str | Path,
    inputs: Iterable = (),
    suffix: str | tuple[str, ...] | None = None,
    *,
    force: bool = False,
    what: str = "",
) -> Path:
    """Fail before any work if `path` cannot or must not be written; return it as a Path.

    `what` names the flag for messages ('--plot'); `inputs` are the files the command reads, never written over,
    not even with `force`; an existing file is replaced only with `force`.
    """
    text = str(path)
    if not text.strip():
        raise ScaleplanError(f"{what or 'output'}: empty path; give a file name")
    shown = _label(what, text)
    p = Path(text)
    allowed = (suffix,) if isinstance(suffix, str) else suffix
    if allowed and p.suffix.lower() not in allowed:
        raise ScaleplanError(f"{shown}: give a file name ending in {allowed[0]}")
    if any(len(part.encode()) > 255 for part in p.parts) or len(os.fsencode(text)) > 4000:
        raise ScaleplanError(f"{shown}: file name too long")
    try:
        _check_place(p, shown, inputs, force)
    except OSError as exc:  # a parent without search permission, a loop of links, ...: one line, not a traceback
        raise ScaleplanError(f"{shown}: cannot write ({exc.strerror or exc})") from None
    return p


def _check_place(p: Path, shown: str, inputs: Iterable, force: bool) -> None:
    """check_target's checks on the file system (any of them may raise OSError)."""
    for source in list(inputs) + list(_INPUTS.values()):
        if source is not None and _same_file(p, Path(source)):
            raise ScaleplanError(f"{shown}: refusing to write over {source}, an input of this command")
    folder = p.parent if str(p.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise ScaleplanError(f"{shown}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise ScaleplanError(f"{shown}: folder {folder} does not exist")
    if p.is_dir():
        raise ScaleplanError(f"{shown}: is a folder; give a file name")
    if p.exists() or p.is_symlink():
        if not force:
            raise ScaleplanError(f"{shown}: exists; pass <force> to replace it")
        if not p.is_file():
            raise ScaleplanError(f"{shown}: exists and is not a regular file")
    probe_writable(folder, shown)


def _stage(path: Path, data: str | bytes) -> str:
    """Write data to a temporary file beside `path`; return its name."""
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:200]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode open() would have
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _commit(tmp: str, path: Path, force: bool) -> None:
    """Rename `tmp` to `path`; without `force`, never over a file that appeared meanwhile (link fails if it exists)."""
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise ScaleplanError(f"{path}: exists; pass <force> to replace it") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if path.exists():  # a file system without hard links: check, then rename
            raise ScaleplanError(f"{path}: exists; pass <force> to replace it") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def write_files(items: dict, inputs: Iterable = (), *, force: bool = False, what: str = "") -> list[Path]:
    """Write {path: data} all or nothing: every file staged first, then renamed into place.

    If anything fails, the staged files and the files this call created are removed (files it replaced under
    `force` stay replaced: their old contents are gone by then).
    """
    inputs = list(inputs)
    paths = [check_target(p, inputs, force=force, what=what) for p in items]
    staged: list[tuple[str, Path]] = []
    created: list[Path] = []
    try:
        for p, data in zip(paths, items.values()):
            staged.append((_stage(p, data), p))
        for tmp, p in staged:
            existed = p.exists()
            _commit(tmp, p, force)
            if not existed:
                created.append(p)
    except OSError as exc:
        _rollback(staged, created)
        raise ScaleplanError(f"{_label(what, p)}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        _rollback(staged, created)
        raise
    return paths


def _rollback(staged, created) -> None:
    for path in [Path(tmp) for tmp, _ in staged] + list(created):
        try:
            path.unlink(missing_ok=True)
        except OSError:  # the first error is the one to report
            pass


def write_atomic(
    path: str | Path, data: str | bytes, inputs: Iterable = (), *, force: bool = False, what: str = ""
) -> Path:
    """Write `data` to `path` through a temporary file in the same folder and an atomic rename.

    Refuses any of `inputs` (the files the command read) and, without `force`, any existing file.
    """
    return write_files({path: data}, inputs, force=force, what=what)[0]
