"""The tables' machinery: a grid that wraps between words (never inside a number), and the machine formats
(JSON, CSV, markdown), all from the same values.

Data goes to stdout; warnings go to stderr, so `--format json | jq` always works.
"""

from __future__ import annotations

from enum import Enum

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


# ---------------------------------------------------------------------------------------------------------------
# Machine formats


def to_json(obj, nulled: list[str] | None = None) -> str:
    """JSON text: numpy numbers as plain ones, and a number that is not finite (a fit that diverged, a schedule with
    no steps to cool down) as null, its key appended to `nulled` so the caller can warn."""
    import json  # machine formats import their modules when asked: the table path stays lean

    try:  # allow_nan=False: a NaN would be invalid JSON for every reader but Python's.
        return json.dumps(obj, indent=2, allow_nan=False)
    except (ValueError, TypeError):
        found: list[str] = [] if nulled is None else nulled
        return json.dumps(_finite(obj, "", found), indent=2, allow_nan=False)


def _finite(value, where: str, found: list[str]):
    """`value` ready for JSON: non-finite numbers as None (their keys recorded in `found`)."""
    import math

    if hasattr(value, "tolist"):  # a numpy number or array
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _finite(v, f"{where}.{k}" if where else str(k), found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, f"{where}[{i}]", found) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        found.append(where or "value")
        return None
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def nulled_warning(keys: list[str]) -> str:
    """'3 numbers are not finite (loss, curve[0].loss_wsd, ...) and are written as null'."""
    shown = ", ".join(keys[:3]) + (", ..." if len(keys) > 3 else "")
    what = "a number is" if len(keys) == 1 else f"{len(keys)} numbers are"
    return f"{what} not finite ({shown}) and written as null: the result does not hold there"


def flatten(record: dict, prefix: str = "") -> dict:
    """{'cost': {'dollars': 1}} -> {'cost_dollars': 1}: a mapping becomes prefixed columns; a list stays one value."""
    out = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "_"))
        else:
            out[name] = value
    return out


def csv_cell(value) -> str:
    """One CSV cell: text as it is, an empty cell for None (and NaN), anything else as JSON text: numbers as Python
    writes them, true/false, and a list (or a mapping inside one) as JSON, so `json.loads` reads every such cell."""
    import json

    value = _json_ready(value)
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, allow_nan=False)


def _json_ready(value):
    """Nested lists and mappings with numpy numbers and arrays as plain ones and non-finite numbers as None."""
    import math

    if hasattr(value, "tolist"):  # a numpy number or array
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def to_csv(records: list[dict]) -> str:
    """One CSV row per record: nested mappings as prefixed columns, lists as JSON text (see csv_cell)."""
    import csv
    import io

    rows = [flatten(r) for r in records]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return buf.getvalue()


def to_markdown(headers: list[str], rows: list[list[str]]) -> str:
    def esc(cell: str) -> str:
        return printable(cell).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(h) for h in headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def short_source(citation: str) -> str:
    """'Tao et al. 2024, arXiv:2407.13623, NeurIPS 2024; constants from ...' -> up to the first '; ' or ': '."""
    for sep in ("; ", ": "):
        citation = citation.split(sep)[0]
    return citation


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F]}


def printable(text) -> str:
    """Text with control characters written as escapes (a scenario named "a\x1b[31mred" cannot recolour the
    terminal); tabs and newlines stay."""
    return str(text).translate(_CONTROL)


def grid_table(
    title: str | None,
    headers: list[str],
    rows: list[list[str]],
    caption: str | None = None,
    first_column_style: str = "bold",
    width: int | None = None,
    wrap_first: bool = False,
) -> Table:
    """A table whose columns wrap between words at `width`; the first column never wraps unless `wrap_first`."""
    title = None if title is None else printable(title)
    headers = [printable(h) for h in headers]
    rows = [[printable(c) for c in row] for row in rows]
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAVY, title_justify="left", caption_justify="left")
    columns = [[str(row[i]) for row in rows if i < len(row)] for i in range(len(headers))]
    widths, _ = _column_widths(headers, columns, width, wrap_first)
    for i, (header, cells) in enumerate(zip(headers, columns)):
        numeric = sum(c[:1].isdigit() or c[:1] in "$-+." for c in cells) * 2 >= len(cells)
        table.add_column(
            header,
            style=first_column_style if i == 0 else None,
            justify="right" if i and numeric else "left",
            overflow="fold",
            no_wrap=i == 0 and not wrap_first,
            width=None if widths is None else widths[i],
        )
    for row in rows:
        table.add_row(*row)
    return table


def _column_needs(headers: list[str], columns: list[list[str]], wrap_first: bool = False):
    """(each column's natural width, its longest word up to 24 characters, the table's own width around them)."""
    natural = [max((len(c) for c in cells + [str(h)]), default=1) for h, cells in zip(headers, columns)]
    longest = [
        min(max((len(w) for c in cells + [str(h)] for w in c.split()), default=1), 24)
        for h, cells in zip(headers, columns)
    ]
    if not wrap_first:
        longest[0] = natural[0]  # the first column never wraps
    overhead = 3 * len(headers) + 1  # one space either side of each column, a rule between and outside them
    return natural, longest, overhead


def _column_widths(
    headers: list[str], columns: list[list[str]], width: int | None, wrap_first: bool = False
) -> tuple[list[int] | None, int | None]:
    """Widths that wrap between words, never inside one, when the table does not fit as it is (None: rich decides),
    and the table's width (None: the console's).

    Each column gets at least its longest word (up to 24 characters; the first column, which never wraps, its
    longest cell). When even the longest words do not fit, rich folds them rather than drop columns.
    """
    natural, longest, overhead = _column_needs(headers, columns, wrap_first)
    if width is None or sum(natural) + overhead <= width:
        return None, sum(natural) + overhead
    if sum(longest) + overhead > width:
        return None, width
    widths, spare = list(longest), width - overhead - sum(longest)
    # Unwrap as many columns as the room allows, the cheapest first; the rest of the room widens the one that needs
    # the most.
    for i in sorted(range(len(widths)), key=lambda j: natural[j] - widths[j]):
        need = natural[i] - widths[i]
        if 0 < need <= spare:
            widths[i], spare = natural[i], spare - need
    if spare > 0:
        i = max(range(len(widths)), key=lambda j: natural[j] - widths[j])
        widths[i] += min(spare, natural[i] - widths[i])
    return widths, sum(widths) + overhead


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, emoji=False)


def write_raw(console: Console, text: str) -> None:
    console.file.write(text)
    console.file.flush()


def emit_grid(
    console: Console,
    fmt: Format,
    title: str | None,
    headers: list[str],
    rows: list[list[str]],
    records: list[dict] | dict,
    caption: str | None = None,
    first_column_style: str = "bold",
    wrap_first: bool = False,
) -> None:
    """One result in the asked format: a table from (headers, rows), or the machine form from `records`.

    `wrap_first` lets the first column wrap between words too (for a column of long text, such as a claim)."""
    match fmt:
        case Format.json:  # machine formats go to the file as they are: no wrapping, no markup (and fast)
            nulled: list[str] = []
            write_raw(console, to_json(records, nulled) + "\n")
            if nulled:
                _stderr().print(f"warning: {nulled_warning(nulled)}", markup=False, soft_wrap=True)
        case Format.csv:
            write_raw(console, to_csv(records if isinstance(records, list) else [records]))
        case Format.markdown:
            text = (f"**{title}**\n\n" if title else "") + to_markdown(headers, rows)
            write_raw(console, text + (f"\n{caption}\n" if caption else ""))
        case Format.table:
            if len(headers) > 2 and not fits_whole_words(headers, rows, console.width, wrap_first):
                # Too narrow for the columns with whole words (a number split over two lines reads as two): each
                # row as a block of (column, value) lines.
                headers, rows, wrap_first = ["", ""], stacked(headers, rows), True
            console.print(
                grid_table(title, headers, rows, None, first_column_style, console.width, wrap_first=wrap_first)
            )
            if caption:  # wrapped by us at the table's width: rich's own caption drops a word's last character there
                columns = [[str(row[i]) for row in rows if i < len(row)] for i in range(len(headers))]
                table_width = _column_widths(headers, columns, console.width, wrap_first)[1] or console.width
                console.print(
                    Text(caption, style="table.caption", justify="left"), width=min(table_width, console.width)
                )


def stacked(headers: list[str], rows: list[list[str]]) -> list[list[str]]:
    """The rows of a wide table as (column, value) lines, one block per row, a blank line between blocks."""
    out: list[list[str]] = []
    for i, row in enumerate(rows):
        out += [["", ""]] if i else []
        out += [[header, cell] for header, cell in zip(headers, row)]
    return out


def fits_whole_words(headers, rows, width: int, wrap_first: bool = False) -> bool:
    """Whether grid_table can show these rows at `width` without breaking a word (as _column_widths plans it)."""
    columns = [[str(row[i]) for row in rows if i < len(row)] for i in range(len(headers))]
    natural, longest, overhead = _column_needs(headers, columns, wrap_first)
    return sum(natural) + overhead <= width or sum(longest) + overhead <= width


def gap(console: Console, fmt: Format) -> None:
    console.print() if fmt is Format.table else console.out("")
