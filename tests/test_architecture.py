"""The house rules of ../DESIGN.md, read from the source with `ast` (no module is imported or run).

(a) law forms own their maths: no module outside scaleplan/laws/ compares a `.form` to a name or reads
    `loss_spec[...]` keys;
(b) imports follow the parts (folders): cli -> present -> pipeline -> {cluster, curves, fit, recipe, laws} ->
    schema -> core, with the crossings ALLOWED names (module level and inside functions alike), and no cycles;
(c) the golden-section and bisection loops exist only in scaleplan/core/solvers.py;
(d) Hoffmann's G = (alpha A / (beta B))^(1/(alpha+beta)) is written once, in scaleplan/laws/forms.py.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scaleplan"

# The parts of the house (folders of scaleplan/) and the parts each may import: ../DESIGN.md's picture,
#   cli -> present -> pipeline -> {cluster, curves, fit, recipe, laws} -> schema -> core
# with the crossings below the pipeline written down. Anything else is refused, at module level and inside functions.
ALLOWED = {
    "api": {"cli", "present", "pipeline", "cluster", "curves", "fit", "recipe", "laws", "schema", "core"},
    "cli": {"present", "pipeline", "cluster", "curves", "fit", "recipe", "laws", "schema", "core"},
    "present": {"pipeline", "cluster", "curves", "fit", "recipe", "laws", "schema", "core"},
    "pipeline": {"cluster", "curves", "fit", "recipe", "laws", "schema", "core"},  # checks.py recomputes curve claims
    "cluster": {"recipe", "schema", "core"},  # memory and serving read the designed Shape
    "curves": {"fit", "recipe", "schema", "core"},  # fitted with fit's variable projection; schedules live in recipe
    "fit": {"laws", "schema", "core"},  # a fit is a law (forms own G and the optimum)
    "recipe": {"schema", "core"},
    "laws": {"schema", "core"},  # conventions and units
    "schema": {"core"},
    "core": set(),
}
TOP_LEVEL = {"__init__": "api", "__main__": "api", "_version": "core"}


def part(name: str) -> str:
    return TOP_LEVEL.get(name) or name.split(".")[0]


# Scalar root-finding loops outside this refactor's files (precision_laws.py's kumar_optimal_bits bisects one number).
# fit_vp: 0.5 (H + H^T) symmetrises a Hessian, not a midpoint
BISECTION_ELSEWHERE = {"pipeline.precision_laws", "fit.vp"}
# Nothing writes G outside laws/forms.py: the bootstrap's N_opt, D_opt go through forms.parametric_optimum.
GROWTH_ELSEWHERE: set[str] = set()
# the same product under any names (fit_vp's `alpha * a_n / (beta * b_d)` slipped past the one above)
GROWTH_ANY_NAMES = re.compile(r'alpha\W{0,3}\s*\*\s*[\w\[\]"]+\s*/\s*\(\s*[\w\[\]"]*beta')
GROWTH = re.compile(r'\*\s*\w+\["A"\]\s*/\s*\(\s*\w+(\["beta"\])?\s*\*\s*\w+\["B"\]')  # alpha A / (beta B)


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1]) if parts[-1] == "__init__" and len(parts) > 1 else ".".join(parts)
        out[name] = path
    return out


MODULES = modules()


def tree(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(encoding="utf-8"), filename=str(MODULES[name]))


def imported(name: str) -> list[tuple[str, int]]:
    """(module imported, line) for every import of a scaleplan module in `name`, at any depth."""
    package = name.split(".")[:-1] if MODULES[name].name != "__init__.py" or name == "__init__" else name.split(".")
    if name == "__init__":
        package = []
    out = []
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else list(package)
            elif (node.module or "").split(".")[0] == "scaleplan":
                base, node = (
                    [],
                    ast.ImportFrom(
                        module=node.module.partition(".")[2] or None, names=node.names, level=1, lineno=node.lineno
                    ),
                )
            else:
                continue
            stem = base + (node.module.split(".") if node.module else [])
            for alias in node.names:
                as_module = ".".join([*stem, alias.name])
                out.append((as_module if as_module in MODULES else ".".join(stem) or "__init__", node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "scaleplan":
                    out.append((alias.name.partition(".")[2] or "__init__", node.lineno))
    return out


def test_every_module_is_in_a_part():
    missing = sorted(name for name in MODULES if part(name) not in ALLOWED)
    assert not missing, f"put {missing} in a part (a folder named in ALLOWED of tests/test_architecture.py)"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_follow_the_parts(name):
    crossing = [
        f"{name}:{line} imports {target} ({part(name)} -> {part(target)})"
        for target, line in imported(name)
        if target in MODULES and part(target) != part(name) and part(target) not in ALLOWED[part(name)]
    ]
    assert not crossing, crossing


def test_no_import_cycles_between_modules():
    """Within a part too, modules import one way (module level and inside functions)."""
    edges = {name: {t for t, _ in imported(name) if t in MODULES and t != name} for name in MODULES}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError(" -> ".join([*path[path.index(name) :], name]))
        if name in done:
            return
        for target in sorted(edges[name]):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(MODULES):
        visit(name, [])


def test_import_resolution_sees_the_known_edges():
    """Guard the checker itself: edges that exist must be found (else the tests above could never fail)."""
    assert "laws" in {t for t, _ in imported("pipeline.inference")}
    assert "core.solvers" in {t for t, _ in imported("laws")}
    assert "laws.forms" in {t for t, _ in imported("laws")}
    assert "pipeline.inference" in {t for t, _ in imported("pipeline.optimal")}  # a function-level import
    assert "cluster.cost" in {t for t, _ in imported("pipeline.budget")}  # `from ..cluster import cost as cost_mod`
    assert "pipeline" not in ALLOWED["cluster"]  # so cluster importing the pipeline would be flagged


def _is_form_name_comparison(node: ast.Compare) -> bool:
    sides = [node.left, *node.comparators]
    touches_form = any(isinstance(s, ast.Attribute) and s.attr == "form" for s in sides)

    def names(s):
        if isinstance(s, ast.Constant) and isinstance(s.value, str):
            return True
        return isinstance(s, (ast.Tuple, ast.List, ast.Set)) and any(names(e) for e in s.elts)

    return touches_form and any(names(s) for s in sides)


def _reads_loss_spec(node: ast.Subscript) -> bool:
    v = node.value
    return (isinstance(v, ast.Attribute) and v.attr == "loss_spec") or (isinstance(v, ast.Name) and v.id == "loss_spec")


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "laws" and not n.startswith("laws.")))
def test_no_branching_on_the_form_outside_laws(name):
    bad = [
        f"{name}:{node.lineno}"
        for node in ast.walk(tree(name))
        if (isinstance(node, ast.Compare) and _is_form_name_comparison(node))
        or (isinstance(node, ast.Subscript) and _reads_loss_spec(node))
    ]
    assert not bad, f"ask the law (laws/forms.py) instead of testing its form: {bad}"


def test_the_form_checker_catches_what_it_should():
    code = 'if law.form == "parametric": pass\nx = law.loss_spec["form"]\ny = law.form in ("power", "kaplan")\n'
    nodes = list(ast.walk(ast.parse(code)))
    assert sum(isinstance(n, ast.Compare) and _is_form_name_comparison(n) for n in nodes) == 2
    assert sum(isinstance(n, ast.Subscript) and _reads_loss_spec(n) for n in nodes) == 1


def _golden_constant(node) -> bool:
    """(sqrt(5) - 1) / 2 = 0.6180..., its complement 0.3819... or phi = 1.618... written in any way."""
    if isinstance(node, ast.Constant) and isinstance(node.value, float):
        return any(
            abs(node.value - g) < 1e-3 for g in ((math.sqrt(5) - 1) / 2, (3 - math.sqrt(5)) / 2, (1 + math.sqrt(5)) / 2)
        )
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        return func == "sqrt" and node.args[0].value == 5
    return False


def _midpoint(node) -> bool:
    """0.5 * (x + y) or (x + y) / 2: the step of a bisection."""
    if not isinstance(node, ast.BinOp):
        return False
    if isinstance(node.op, ast.Mult):
        pair = (node.left, node.right)
        return any(
            isinstance(a, ast.Constant) and a.value == 0.5 and isinstance(b, ast.BinOp) and isinstance(b.op, ast.Add)
            for a, b in (pair, pair[::-1])
        )
    return (
        isinstance(node.op, ast.Div)
        and isinstance(node.left, ast.BinOp)
        and isinstance(node.left.op, ast.Add)
        and isinstance(node.right, ast.Constant)
        and node.right.value == 2
    )


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "core.solvers"))
def test_golden_section_and_bisection_only_in_solvers(name):
    module = tree(name)
    golden = [n.lineno for n in ast.walk(module) if _golden_constant(n)]
    assert not golden, f"{name}:{golden}: golden-section search belongs in scaleplan/core/solvers.py"
    if name in BISECTION_ELSEWHERE:
        return
    loops = [n for n in ast.walk(module) if isinstance(n, (ast.For, ast.While))]
    halving = sorted({m.lineno for loop in loops for m in ast.walk(loop) if _midpoint(m)})
    assert not halving, f"{name}:{halving}: a bisection loop; use scaleplan.core.solvers.bisect"


def test_solvers_is_where_they_live():
    module = tree("core.solvers")
    assert any(_golden_constant(n) for n in ast.walk(module))
    assert any(_midpoint(n) for n in ast.walk(module))


def test_hoffmanns_g_is_written_once():
    for pattern in (GROWTH, GROWTH_ANY_NAMES):
        where = sorted(name for name, path in MODULES.items() if pattern.search(path.read_text(encoding="utf-8")))
        assert set(where) - GROWTH_ELSEWHERE == {"laws.forms"}, (pattern.pattern, where)


# (e) Library messages name arguments, not CLI flags (issue 11, item 6): a message marks an argument as <name>, which
# Python callers read as `name` and the CLI shows as `--name` (ScaleplanError.for_flags). Only the CLI's own layers
# may write flags; a command line offered as advice ("scaleplan fit RUNS --save FILE") is not a flag name.
CLI_LAYERS = {name for name in MODULES if part(name) in ("api", "cli", "present")}
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def _raised_text(node: ast.Raise) -> str:
    if not isinstance(node.exc, ast.Call) or not node.exc.args:
        return ""
    parts = [n.value for n in ast.walk(node.exc.args[-1]) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return "".join(parts)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n not in CLI_LAYERS))
def test_library_messages_name_arguments_not_flags(name):
    raised = [n for n in ast.walk(tree(name)) if isinstance(n, ast.Raise)]
    flags = [
        f"{name}:{n.lineno}: {FLAG.search(text).group()}"
        for n in raised
        if (text := _raised_text(n)) and FLAG.search(text) and "scaleplan " not in text
    ]
    assert not flags, f"name the argument as a <mark> instead: {flags}"


def test_the_flag_checker_catches_what_it_should():
    bad = ast.parse('raise ScaleplanError(f"--mfu must be in (0, 1], got {x}")').body[0]
    good = ast.parse('raise ScaleplanError(f"<mfu> must be in (0, 1], got {x}")').body[0]
    assert isinstance(bad, ast.Raise) and isinstance(good, ast.Raise)
    assert FLAG.search(_raised_text(bad)) and not FLAG.search(_raised_text(good))
