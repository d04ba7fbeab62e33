"""A plan written as the configuration a trainer reads: `scaleplan export FORMAT ...`.

Each writer renders the plan's JSON (the contract of ../DESIGN.md: `Plan.to_dict()`, or a PLAN.json file written by
`--format json`) as text files; the CLI checks the paths and writes them through scaleplan.core.files. Nothing here
counts parameters: the counts in the files' comments are the plan's (recipe.Shape's).

Formats (../shared/reference/trainer-configs.md gives each one's keys and sources):

- ``hf``: a Llama-family ``config.json`` (GPT-2's for ``--arch gpt``) beside ``training.yaml`` (tokens, batch,
  schedule and steps, which config.json cannot hold).
- ``megatron``: a bash array of Megatron-LM arguments for ``pretrain_gpt.py`` (WSD with the 1-sqrt cool-down as
  ``--lr-decay-style WSD --lr-wsd-decay-style minus_sqrt``), refused in one line when the layout breaks one of
  Megatron's divisibility rules.
- ``nanotron``: its YAML; global batch = micro x accumulation x dp x sequence length exactly.
- ``torchtitan``: a Python module with a function returning ``Trainer.Config``, for torchtitan at commit
  ``TORCHTITAN_COMMIT`` (after its 2026-02 config refactor); the SwiGLU width through ``ffn_dim_multiplier`` and
  ``multiple_of``, WSD as ``decay_type="sqrt"`` with ``decay_ratio``.
- ``litgpt``: a pretrain YAML with a full Llama-style ``model_config``; litgpt schedules cosine only, so the cosine
  peak is exported (the file says so).
- ``nanogpt``: a ``config/train_*.py`` for GPT-2-style plans (cosine only, like litgpt).
"""

from __future__ import annotations

import json

from ..core.errors import ScaleplanError
from .export_hf import hf_config, training_settings
from .export_litgpt import litgpt_yaml
from .export_megatron import megatron_args
from .export_nanogpt import nanogpt_config
from .export_nanotron import nanotron_yaml
from .export_plan import ExportPlan, plan_view
from .export_torchtitan import torchtitan_module

__all__ = ["EXPORT_FORMATS", "MAX_PLAN_BYTES", "SUFFIXES", "ExportPlan", "export_files", "plan_view"]

EXPORT_FORMATS = ("hf", "megatron", "nanotron", "torchtitan", "litgpt", "nanogpt")
# the file names each single-file format's --output may have
SUFFIXES: dict[str, tuple[str, ...]] = {
    "megatron": (".sh",),
    "nanotron": (".yaml", ".yml"),
    "torchtitan": (".py",),
    "litgpt": (".yaml", ".yml"),
    "nanogpt": (".py",),
}
MAX_PLAN_BYTES = 16 * 1024 * 1024  # a plan's JSON is ~10 kB; 200 scenarios of a budget file ~2 MB


def export_files(fmt: str, plan: dict, source: str, where: str = "plan") -> dict[str, str]:
    """{file name: text} of `fmt` for the plan's JSON; `source` (the command or file) goes into the header."""
    p = plan_view(plan, where)
    if fmt == "hf":
        return {
            "config.json": json.dumps(hf_config(p), indent=2) + "\n",
            "training.yaml": training_settings(p, source),
        }
    writers = {
        "megatron": ("megatron_args.sh", megatron_args),
        "nanotron": ("nanotron.yaml", nanotron_yaml),
        "torchtitan": ("scaleplan_torchtitan.py", torchtitan_module),
        "litgpt": ("litgpt_pretrain.yaml", litgpt_yaml),
        "nanogpt": ("train_scaleplan.py", nanogpt_config),
    }
    if fmt not in writers:
        raise ScaleplanError(f"<format> must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    name, writer = writers[fmt]
    return {name: writer(p, source)}
