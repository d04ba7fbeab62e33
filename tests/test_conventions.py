"""The dense FLOP conventions, written once in scaleplan/schema/conventions.py, and guards that keep them there.

C = 6 N D (Kaplan et al. 2020 sec. 2.1; Hoffmann et al. 2022), D = C / (6 N), and 2 N FLOPs per served token; the
plan's default context of 2,048 tokens is `DEFAULT_CONTEXT`. The guards read the source with `ast` (as
tests/test_architecture.py does) and refuse the inline forms anywhere else.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleplan.schema.conventions import (
    DEFAULT_CONTEXT,
    params_for,
    serving_flops,
    tokens_for,
    training_flops,
)

PACKAGE = Path(__file__).resolve().parents[1] / "scaleplan"
HOME = "schema/conventions.py"

# --- the functions, on published budgets


def test_chinchilla_70b_on_1p4t_tokens_is_5p88e23_by_6nd():
    # Hoffmann et al. 2022: Chinchilla, 70B parameters on 1.4T tokens. 6ND = 5.88e23; their Table 3 lists 5.76e23
    # for their own (Appendix F) FLOP count of the 70B row, 2 % below 6ND.
    c = training_flops(70e9, 1.4e12)
    assert c == pytest.approx(5.88e23, rel=1e-12)
    assert c / 5.76e23 == pytest.approx(1.0208, abs=1e-4)
    assert tokens_for(5.88e23, 70e9) == pytest.approx(1.4e12, rel=1e-12)
    assert params_for(5.88e23, 1.4e12) == pytest.approx(70e9, rel=1e-12)


def test_llama2_70b_on_2t_tokens_is_8p4e23():
    # Touvron et al. 2023 (Llama 2), Table 1: the 70B model was trained on 2.0T tokens; 6 x 70e9 x 2e12 = 8.4e23.
    assert training_flops(70e9, 2e12) == pytest.approx(8.4e23, rel=1e-12)
    assert tokens_for(8.4e23, 70e9) == pytest.approx(2e12, rel=1e-12)


def test_serving_is_2n_per_token():
    # Kaplan et al. 2020 Table 1: the forward pass costs 2N FLOPs per token (plus attention over the context).
    assert serving_flops(70e9, 1.0) == 1.4e11
    assert serving_flops(70e9, 1e12) == pytest.approx(1.4e23, rel=1e-12)
    # an MoE serves with its active parameters: DeepSeek-V3's 37B active, 7.4e10 FLOPs a token
    assert serving_flops(37e9, 1.0) == 7.4e10


def test_scalars_stay_python_floats_and_arrays_keep_their_shape():
    assert type(training_flops(70e9, 1.4e12)) is float
    assert type(tokens_for(5.88e23, 70e9)) is float
    assert type(serving_flops(70e9, 1.0)) is float
    n = np.array([[1e9, 7e9], [13e9, 70e9]])
    d = np.array([20e9, 1.4e12])
    c = training_flops(n, d)
    assert c.shape == (2, 2) and c[1, 1] == pytest.approx(5.88e23, rel=1e-12)
    np.testing.assert_allclose(tokens_for(c, n), np.broadcast_to(d, (2, 2)), rtol=1e-15)
    np.testing.assert_allclose(params_for(c, d), n, rtol=1e-15)
    assert serving_flops(n, d).shape == (2, 2)


positive = st.floats(min_value=1e3, max_value=1e16, allow_nan=False, allow_infinity=False)


@given(positive, positive)
def test_the_functions_are_bit_identical_to_the_inline_forms_they_replaced(n, d):
    # the operand order `6.0 * params * tokens` is the contract: callers' pinned numbers did not move
    assert training_flops(n, d) == 6.0 * n * d
    assert tokens_for(n * d, n) == n * d / (6.0 * n)
    assert serving_flops(n, d) == 2.0 * n * d
    arr = np.array([n, d])
    assert np.array_equal(training_flops(arr, d), 6.0 * arr * d)
    assert tokens_for(training_flops(n, d), n) == pytest.approx(d, rel=1e-15)


# --- the guards: the conventions are not written inline elsewhere


def _is_six(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == 6


def _factors(node: ast.AST) -> list[ast.AST]:
    """The factors of a product a * b * c (one factor for anything else)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _factors(node.left) + _factors(node.right)
    return [node]


def inline_six_nd(source: str) -> list[int]:
    """Lines writing C = 6 N D (a product of 6 and two or more other factors) or D = C / (6 N) (anything over, or
    floor-divided by, 6 times something)."""
    lines = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.BinOp):
            continue
        if isinstance(node.op, ast.Mult):
            factors = _factors(node)
            if any(_is_six(f) for f in factors) and len(factors) >= 3:
                lines.add(node.lineno)
        if isinstance(node.op, (ast.Div, ast.FloorDiv)):
            factors = _factors(node.right)
            if len(factors) >= 2 and any(_is_six(f) for f in factors):
                lines.add(node.lineno)
    return sorted(lines)


def bare_2048(source: str) -> list[int]:
    """Lines with the number 2048 (not inside a string)."""
    return sorted(
        {
            n.lineno
            for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Constant) and type(n.value) is int and n.value == 2048
        }
    )


# Legitimate products and quotients with a 6 that are not the dense training convention (file: reason).
SIX_ELSEWHERE = {
    "cluster/cost.py": "s / (6h): the attention share in Narayanan et al.'s model-FLOPs ratio, not D = C / 6N",
}
# Legitimate 2048s that are not the plan's default context (file: reason).
TWO_048_ELSEWHERE = {
    "recipe/config_hf.py": "HF_DEFAULT_CONTEXT: transformers' LlamaConfig max_position_embeddings default",
    "recipe/ladder.py": "d_model >= 2,048 takes 128-wide heads (Llama 2/3), a width, not a context",
}


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), path.read_text(encoding="utf-8")


def test_the_guard_finds_the_inline_forms():
    # every shape the 44 inline lines of issue 19 took, and the ones that are not the convention
    found = inline_six_nd(
        "a = 6.0 * n * d\nb = 6 * x.params * x.tokens\nc = f / (6.0 * n)\nd = int(c // (6 * n))\n"
        "e = (b - s) / (6.0 * n * per_flop)\nf = np.where(r, 6.0 * total * d, np.inf)\n"
        "g = 6.0 * m + 12.0 * l * d * s\nh = c / 6.0\ni = 6.0 * (k / g) ** p\nj = 2.0 * n * d\n"
    )
    assert found == [1, 2, 3, 4, 5, 6]
    assert bare_2048("def f(context=2048):\n    return 'default 2048'\nx = d.get('context', 2048)\n") == [1, 3]


def test_c_equals_6nd_is_written_only_in_the_conventions_module():
    offenders = {
        name: lines
        for name, text in _sources()
        if name != HOME and name not in SIX_ELSEWHERE and (lines := inline_six_nd(text))
    }
    assert not offenders, f"write 6ND as conventions.training_flops / tokens_for: {offenders}"
    for name in SIX_ELSEWHERE:  # the allow-list stays true: each entry still has its 6
        assert inline_six_nd((PACKAGE / name).read_text(encoding="utf-8")), name


def test_the_default_context_is_written_only_in_the_conventions_module():
    offenders = {
        name: lines
        for name, text in _sources()
        if name != HOME and name not in TWO_048_ELSEWHERE and (lines := bare_2048(text))
    }
    assert not offenders, f"use conventions.DEFAULT_CONTEXT for the default context: {offenders}"
    assert bare_2048((PACKAGE / HOME).read_text(encoding="utf-8"))
    assert DEFAULT_CONTEXT == 2048  # Rae et al. 2021 sec. 3, as Hoffmann et al. 2022 and Porian et al. 2024 train
    for name in TWO_048_ELSEWHERE:
        assert bare_2048((PACKAGE / name).read_text(encoding="utf-8")), name
