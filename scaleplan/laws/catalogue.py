"""One catalogue of every bundled law, whatever it predicts: `scaleplan laws` and `scaleplan laws show NAME`.

Kinds, in the order `scaleplan laws` lists them:

* allocation: compute-optimal N and D (laws/data/*.yaml, the `Law` objects of this package);
* recipe: vocabulary (Tao et al.), learning rate and batch (StepLaw, DeepSeek, Porian), Kaplan's critical batch
  (data/recipe.yaml);
* MoE: Krajewski et al.'s fine-grained mixture-of-experts law (data/moe.yaml);
* precision: Sun et al. (training in floating point), Ouyang et al. (quantizing), Kumar et al. (both)
  (data/precision.yaml);
* training curves: Tissue et al.'s L(s) with the bundled example constants (data/curve_laws.yaml);
* serving defaults: the serving roofline's efficiencies and workload, each with its source (data/serving.yaml).

Each entry carries its source (arXiv id or repository), status, file, and the rows `laws show` prints, read from the
data file itself: the catalogue never restates a constant.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field, replace

from ..core import _yaml
from ..core.errors import ScaleplanError

KINDS = ("allocation", "recipe", "MoE", "precision", "training curves", "serving defaults")


@dataclass(frozen=True)
class Entry:
    """One bundled law: its name, kind, title, source, status and the file it lives in; `law` for allocation laws."""

    name: str
    kind: str
    title: str
    source: str  # 'Tao et al. 2024' or a repository
    arxiv: str  # '' where the source is not on arXiv
    status: str
    file: str
    aliases: tuple[str, ...] = ()
    rows: tuple[tuple[str, str], ...] = ()  # what `laws show` prints, label and text
    details: dict = field(default_factory=dict)  # the same, for --format json
    law: object = None  # the allocation Law

    @property
    def status_label(self) -> str:
        """The status's leading label ('verified-paper', 'corroborated', ...), for a column."""
        text = self.status.strip()
        for stop in (" (", ":", ";", ","):
            text = text.split(stop)[0]
        return " ".join(text.split()[:3]) or "-"

    def to_dict(self) -> dict:
        return {
            "law": self.name,
            "kind": self.kind,
            "title": self.title,
            "source": self.source,
            "arxiv": self.arxiv or None,
            "status": self.status,
            "file": self.file,
            "aliases": list(self.aliases),
            **self.details,
        }


def _who(citation: dict) -> str:
    if citation.get("short"):
        return f"{citation['short']} {citation.get('year', '')}".strip()
    authors = str(citation.get("authors", ""))
    first = authors.split(",")[0].split(" et al")[0].strip()
    return f"{first} et al. {citation.get('year', '')}".strip()


def _numbers(mapping: dict) -> str:
    return ", ".join(
        f"{k} = {v:.10g}" for k, v in mapping.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    )


def _cite_rows(citation: dict) -> list[tuple[str, str]]:
    arxiv = f" arXiv:{citation['arxiv']}" if citation.get("arxiv") else ""
    text = f"{citation.get('authors', '')} ({citation.get('year', '')}). {citation.get('title', '')}.{arxiv}"
    rows = [("citation", text)]
    if citation.get("where"):
        rows.append(("where", " ".join(str(citation["where"]).split())))
    return rows


def _allocation() -> list[Entry]:
    from . import all_laws

    out = []
    for law in all_laws():
        c = law.citation
        out.append(
            Entry(
                law.name,
                "allocation",
                law.title,
                _who(c),
                str(c.get("arxiv", "")),
                law.status,
                f"scaleplan/laws/data/{law.source}",
                tuple(law.aliases),
                law=law,
            )
        )
    return out


def _recipe() -> list[Entry]:
    raw = _yaml.read(_yaml.DATA / "recipe.yaml")
    v = raw["vocab"]
    out = [
        Entry(
            str(v["name"]),
            "recipe",
            str(v["title"]),
            _who(v["citation"]),
            str(v["citation"].get("arxiv", "")),
            str(v.get("status", "")),
            "scaleplan/data/recipe.yaml",
            ("tao", "vocab"),
            (
                ("gives", "the compute-optimal vocabulary for a model's non-vocabulary parameters"),
                ("approach 2 (default)", _numbers(v["approach2"])),
                ("approach 1", _numbers(v["approach1"])),
                *_cite_rows(v["citation"]),
                ("status", str(v.get("status", ""))),
            ),
            {"approach2": _plain(v["approach2"]), "approach1": _plain(v["approach1"])},
        )
    ]
    hp = raw["hparams"]
    gives = {
        "kaplan-bcrit": "the critical batch B_crit(L) from the loss (no learning rate)",
    }
    for name in hp["default_order"]:
        h = hp[name]
        # the recipe laws that share a name with an allocation law get the suffix -lr-batch in the catalogue
        entry_name = f"{name}-lr-batch" if name in ("deepseek", "porian") else name
        constants = {k: x for k, x in h.items() if isinstance(x, (int, float)) and not isinstance(x, bool)}
        rows = [
            ("gives", gives.get(name, "learning rate and batch size")),
            ("constants", _numbers(constants)),
            *_cite_rows(h["citation"]),
            ("status", str(h.get("status", ""))),
        ]
        if h.get("note"):
            rows.append(("note", " ".join(str(h["note"]).split())))
        out.append(
            Entry(
                entry_name,
                "recipe",
                str(h["title"]),
                _who(h["citation"]),
                str(h["citation"].get("arxiv", "")),
                str(h.get("status", "")),
                "scaleplan/data/recipe.yaml",
                tuple(a for a in h.get("aliases", ()) if a not in ("kaplan", "kaplan2020")),
                tuple(rows),
                {"constants": constants, "recipe_name": name},
            )
        )
    return out


def _plain(mapping: dict) -> dict:
    return {k: x for k, x in mapping.items() if isinstance(x, (int, float)) and not isinstance(x, bool)}


def _moe() -> list[Entry]:
    raw = _yaml.read(_yaml.DATA / "moe.yaml")
    fits = raw["fits"]
    rows = [
        ("form", str(raw["form"])),
        *[(f"fit at E = {e}", f"{_numbers(f)} ({f.get('where', '')})") for e, f in fits.items()],
        ("dense fit", _numbers(raw["dense"])),
        ("conventions", _numbers(raw["conventions"])),
        ("loss units", str(raw.get("loss_units", ""))),
        *_cite_rows(raw["citation"]),
        ("status", str(raw.get("status", ""))),
        *[("note", " ".join(str(n).split())) for n in raw.get("notes", ())],
    ]
    return [
        Entry(
            str(raw["name"]),
            "MoE",
            str(raw["title"]),
            _who(raw["citation"]),
            str(raw["citation"].get("arxiv", "")),
            str(raw.get("status", "")),
            "scaleplan/data/moe.yaml",
            ("moe", "krajewski2024"),
            tuple(rows),
            {"fits": {str(e): _plain(f) for e, f in fits.items()}, "dense": _plain(raw["dense"])},
        )
    ]


def _precision() -> list[Entry]:
    raw = _yaml.read(_yaml.DATA / "precision.yaml")
    out = []
    for name in ("sun", "ouyang", "kumar"):
        law = raw[name]
        c = law["citation"]
        rows = [("form", " ".join(str(law["form"]).split())), ("constants", _numbers(law["constants"]))]
        if "loss_16bit" in law:
            rows.append(("16-bit loss", _numbers(law["loss_16bit"]["constants"])))
        conventions = (law.get("conventions") or {}).items()
        rows += [(k, " ".join(str(x).split())) for k, x in conventions if isinstance(x, str)]
        rows += [*_cite_rows(c), ("status", " ".join(str(law.get("status", "")).split()))]
        rows += [("note", " ".join(str(n).split())) for n in law.get("notes", ())]
        out.append(
            Entry(
                name,
                "precision",
                str(law["title"]),
                _who(c),
                str(c.get("arxiv", "")),
                " ".join(str(law.get("status", "")).split()),
                "scaleplan/data/precision.yaml",
                (f"{name}{c.get('year', '')}",),
                tuple(rows),
                {"constants": _plain(law["constants"])},
            )
        )
    return out


def _curves() -> list[Entry]:
    raw = _yaml.read(_yaml.DATA / "curve_laws.yaml")
    law = raw["laws"]["tissue-example"]
    defs = raw["definitions"]
    constants = {k: law[k] for k in ("L0", "A", "alpha", "C", "lambda")}
    rows = [
        ("form", "L(s) = L0 + A S1^-alpha - C S2 (Tissue, Wang & Wang 2024, arXiv:2408.11029)"),
        ("constants", _numbers(constants)),
        ("S1", str(defs["S1"])),
        ("S2", str(defs["S2"])),
        ("source", " ".join(str(law["source"]).split())),
        ("status", " ".join(str(law["status"]).split())),
        ("law status", " ".join(str(defs["status"]).split())),
    ]
    return [
        Entry(
            "tissue",
            "training curves",
            "Tissue et al. 2024 training-curve law, with the example constants of Wang, Tissue et al. 2025",
            "Tissue et al. 2024",
            "2408.11029",
            " ".join(str(law["status"]).split()),
            "scaleplan/data/curve_laws.yaml",
            ("tissue-example", "tissue2024", "curve"),
            tuple(rows),
            {"constants": constants},
        )
    ]


def _serving() -> list[Entry]:
    raw = _yaml.read(_yaml.DATA / "serving.yaml")
    rows: list[tuple[str, str]] = []
    values: dict = {}
    for section in ("efficiency", "workload"):
        for key, spec in (raw.get(section) or {}).items():
            if not isinstance(spec, dict):
                continue
            value = spec.get("value", _numbers(spec))
            values[key] = value
            status = f" [{spec['status']}]" if spec.get("status") else ""
            source = " ".join(str(spec.get("source", "")).split())
            rows.append((key.replace("_", " "), f"value {value}{status}: {source}"))
    for key, spec in (raw.get("latency") or {}).items():
        rows.append((f"latency {key}", f"TTFT {spec['ttft_ms']} ms, TPOT {spec['tpot_ms']} ms ({spec['source']})"))
    specs = [s for sec in ("efficiency", "workload") for s in raw[sec].values() if isinstance(s, dict)]
    statuses = sorted({str(s.get("status")).split()[0] for s in specs})
    status = f"{' / '.join(statuses)} (per default, as shared/reference/serving.md labels them)"
    return [
        Entry(
            "serving",
            "serving defaults",
            "Serving roofline defaults: achievable fractions, engine settings, workload, latency targets",
            "JAX scaling book; kipply; llm-analysis; MLPerf",
            "",
            status,
            "scaleplan/data/serving.yaml",
            ("serve", "roofline"),
            (("sources", str(raw.get("citation", ""))), *rows),
            {"defaults": values},
        )
    ]


@functools.cache
def entries() -> tuple[Entry, ...]:
    """Every bundled law, grouped by kind in the order of KINDS (an alias an allocation law already uses is dropped
    from the others: `deepseek2024` is the allocation law, `deepseek-lr-batch` its learning-rate law)."""
    allocation = _allocation()
    taken = {n.lower() for e in allocation for n in (e.name, *e.aliases)}
    others = [*_recipe(), *_moe(), *_precision(), *_curves(), *_serving()]
    others = [replace(e, aliases=tuple(a for a in e.aliases if a.lower() not in taken)) for e in others]
    return (*allocation, *others)


def names() -> list[str]:
    return [e.name for e in entries()]


def get(name: str) -> Entry:
    """A catalogue entry by name or alias (case-insensitive); allocation laws first (their aliases included)."""
    key = str(name).strip().lower()
    index: dict[str, Entry] = {}
    for e in entries():  # an allocation law's name wins over a recipe alias of the same name (deepseek, porian)
        for n in (e.name, *e.aliases):
            index.setdefault(n.lower(), e)
    if key in index:
        return index[key]
    close = difflib.get_close_matches(key, list(index), n=1, cutoff=0.5)
    hint = f"; did you mean {index[close[0]].name!r}?" if close else ""
    raise ScaleplanError(f"unknown law {name!r}{hint} (known: {', '.join(names())})")
