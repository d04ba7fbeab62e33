"""Each law file's notes say what the code does (issue 22: `laws show deepseek` said M is converted at l_seq 4,096
while the code converts at 2,048). Every number a note gives for the context (l_seq) or the shape's aspect ratio
(d_model/n_layer) is the code's, and a note naming a parameter convention names the file's own."""

import re

import pytest

from scaleplan import laws
from scaleplan.schema import conventions

NAMES = laws.names()


def _notes(name):
    return list(laws.get(name).notes)


@pytest.mark.parametrize("name", NAMES)
def test_notes_state_the_code_context_and_aspect(name):
    for note in _notes(name):
        for m in re.finditer(r"l_seq\s*=\s*([\d,]+)", note):
            assert int(m.group(1).replace(",", "")) == conventions.DEFAULT_CONTEXT, (name, note)
        for m in re.finditer(r"d_model\s*/\s*n_layer\s*=\s*([\d.]+)", note):
            assert float(m.group(1)) == conventions.ASPECT_RATIO, (name, note)


@pytest.mark.parametrize("name", NAMES)
def test_notes_name_the_files_own_convention(name):
    law = laws.get(name)
    conv = law.params_convention
    for note in _notes(name):
        if "allocates M" in note or "FLOPs per token" in note:
            assert conv == "flops_per_token", (name, note)
        if re.search(r"\bnon-embedding N\b", note):
            assert conv.startswith("non_embedding"), (name, note)


def test_deepseek_note_and_conversion_agree():
    # DeepSeek LLM (arXiv 2401.02954) eq. 2: M = 72 L d^2 + 12 L d l_seq. The note's l_seq is the one the code uses:
    # M for d = 4096, L = 32 at l_seq 2,048 converts back to that width
    note = next(n for n in _notes("deepseek") if "l_seq" in n)
    assert "l_seq = 2048" in note
    d, layers = 4096, 32
    m = 72 * layers * d**2 + 12 * layers * d * conventions.DEFAULT_CONTEXT
    assert conventions._width_from_flops_per_token(m, conventions.DEFAULT_CONTEXT) == pytest.approx(d, rel=1e-9)
