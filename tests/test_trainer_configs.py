"""Trainers' configs read back (scaleplan.recipe.trainer_configs): published files as fixtures (tests/data/SOURCES.md),
every format's keys, and bad files refused in one line."""

import json

import pytest
from conftest import REPO
from hypothesis import given
from hypothesis import strategies as st

from scaleplan.core.errors import ScaleplanError
from scaleplan.recipe.config_megatron import megatron_arguments
from scaleplan.recipe.trainer_configs import megatron_padded_vocab, read_config, torchtitan_ffn_dim

DATA = REPO / "tests" / "data"


def test_smollm_135m_nanotron_yaml_reads_its_shape_and_run():
    """huggingface/smollm text/pretraining/smollm1/config_smollm1_135M.yaml: 9 heads, 3 KV heads (a shape the
    designer never emits), tied embeddings, 600,000 steps of 8 x 2 x 32 sequences of 2,048 tokens."""
    c = read_config(DATA / "smollm1-135M-nanotron.yaml")
    assert c.format == "nanotron"
    assert c.shape == {
        "arch": "llama",
        "layers": 30,
        "d_model": 576,
        "heads": 9,
        "kv_heads": 3,
        "head_dim": 64,
        "d_ff": 1536,
        "vocab": 49152,
        "context": 2048,
        "tied_embeddings": True,
    }
    t = c.training
    assert t["batch_sequences"] == 512 and t["sequence_length"] == 2048 and t["steps"] == 600_000
    assert t["tokens"] == 600_000 * 512 * 2048  # the header's "600B tokens" (629B)
    assert t["learning_rate"] == 0.003 and t["schedule"] == "1-sqrt" and t["dp"] == 32


def test_megatron_llama3_8b_example_reads_its_shape_and_run():
    """NVIDIA/Megatron-LM examples/llama/train_llama3_8b_h100_fp8.sh: shell variables expanded, quoted
    "--vocab-size 128256" split, both branches of the data arguments read."""
    c = read_config(DATA / "megatron-llama3-8b-h100-fp8.sh")
    assert c.format == "megatron"
    assert c.shape == {
        "arch": "llama",
        "layers": 32,
        "d_model": 4096,
        "heads": 32,
        "kv_heads": 8,
        "head_dim": 128,
        "d_ff": 14336,
        "vocab": 128256,
        "context": 8192,
        "tied_embeddings": False,
    }
    t = c.training
    assert t["batch_sequences"] == 128 and t["tokens"] == 1_953_125_000 * 8192
    assert t["learning_rate"] == 0.00015 and t["min_lr"] == 0.00001 and t["precision"] == "fp8"
    assert not c.warnings


def test_torchtitan_ffn_width_as_torchtitan_computes_it():
    """torchtitan/models/llama3/__init__.py at b5bcd76c: (dim, multiple_of, ffn_dim_multiplier) of Llama 3
    8B / 70B / 405B give the published widths 14,336 / 28,672 / 53,248 (Dubey et al. 2024, Table 3)."""
    assert torchtitan_ffn_dim(4096, 1024, 1.3) == 14336
    assert torchtitan_ffn_dim(8192, 4096, 1.3) == 28672
    assert torchtitan_ffn_dim(16384, 4096, 1.2) == 53248
    assert torchtitan_ffn_dim(2048, 1024, 1.5) == 8192  # Llama 3.2 1B
    assert torchtitan_ffn_dim(256, 256) == 768  # torchtitan's debugmodel


def test_megatron_pads_the_vocabulary_as_megatron_does():
    assert megatron_padded_vocab(128256, 128, 1) == 128256
    assert megatron_padded_vocab(128256, 128, 8) == 129024
    assert megatron_padded_vocab(50257, 128, 1) == 50304  # GPT-2's 50,257 -> nanoGPT's 50,304


def test_megatron_arguments_forms():
    text = (
        "#!/bin/bash\nL=24\nARGS=(\n  --num-layers ${L}  # comment\n  --hidden-size=2048 \\\n  --swiglu\n)\n"
        "--lr: 3.0e-4\n"
    )
    a = megatron_arguments(text)
    assert a["--num-layers"] == "24" and a["--hidden-size"] == "2048" and a["--swiglu"] is True
    assert a["--lr"] == "3.0e-4"


def test_hf_config_defaults_follow_llamaconfig(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "model_type": "llama",
                "hidden_size": 4096,
                "intermediate_size": 11008,
                "num_hidden_layers": 32,
                "num_attention_heads": 32,
                "vocab_size": 32000,
                "max_position_embeddings": 4096,
            }
        )
    )
    c = read_config(path)
    assert c.shape["kv_heads"] == 32 and c.shape["head_dim"] == 128 and c.shape["tied_embeddings"] is False


@pytest.mark.parametrize(("kind", "context", "kv_heads"), [("llama", 2048, 32), ("mistral", 131072, 8)])
def test_hf_config_without_context_or_kv_heads_takes_transformers_defaults(tmp_path, kind, context, kv_heads):
    # transformers: LlamaConfig max_position_embeddings = 2048, num_key_value_heads None (= the attention heads);
    # MistralConfig max_position_embeddings = 4096 * 32, num_key_value_heads = 8 (configuration_{llama,mistral}.py)
    path = tmp_path / "config.json"
    shape = {"hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32}
    path.write_text(json.dumps({"model_type": kind, "vocab_size": 32000, **shape}))
    c = read_config(path)
    assert c.shape["context"] == context and c.shape["kv_heads"] == kv_heads


def test_gpt2_config(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "vocab_size": 50257}))
    c = read_config(path)
    assert c.shape["arch"] == "gpt" and c.shape["d_ff"] == 3072 and c.shape["context"] == 1024
    assert c.shape["tied_embeddings"] is True


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("config.json", '{"model_type": "qwen2"}', "model_type 'qwen2' is not one scaleplan counts"),
        ("config.json", '{"model_type": "llama", "hidden_size": 64}', "no num_attention_heads"),
        ("config.json", "[1, 2]", "one JSON object"),
        ("config.json", "{", "not valid JSON"),
        (
            "config.json",
            '{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 3, '
            '"num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 128}',
            "3 key-value heads do not divide 4",
        ),
        (
            "config.json",
            '{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 1e9, '
            '"intermediate_size": 128, "vocab_size": 128}',
            "num_hidden_layers must be a whole number from 1",
        ),
        ("args.sh", "--num-layers 2 --hidden-size 64", "no --num-attention-heads"),
        (
            "args.sh",
            "--num-layers 2 --hidden-size 64 --num-attention-heads 4 --swiglu --vocab-size 128",
            "mix architectures",
        ),
        ("x.yaml", "a: 1\n", "scaleplan reads those"),
        ("x.yaml", "model_config: {n_layer: 2, n_embd: 64, n_head: 4, mlp_class_name: LLaMAMLP}\n", "norm_class_name"),
        ("x.txt", "hello", "not a model config scaleplan reads"),
        ("x.py", "n_layer = (", "not valid Python"),
    ],
)
def test_bad_configs_fail_in_one_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScaleplanError, match=message) as info:
        read_config(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


@given(
    layers=st.integers(1, 200),
    kv=st.sampled_from([1, 2, 4, 8]),
    groups=st.integers(1, 16),
    head_dim=st.sampled_from([64, 128]),
    d_ff=st.integers(1, 100_000),
    vocab=st.integers(1, 7000),
)
def test_megatron_and_hf_read_the_same_shape(tmp_path_factory, layers, kv, groups, head_dim, d_ff, vocab):
    heads = kv * groups
    d = heads * head_dim
    folder = tmp_path_factory.mktemp("c")
    (folder / "config.json").write_text(
        json.dumps(
            {
                "model_type": "llama",
                "hidden_size": d,
                "intermediate_size": d_ff,
                "num_hidden_layers": layers,
                "num_attention_heads": heads,
                "num_key_value_heads": kv,
                "vocab_size": vocab * 128,
                "max_position_embeddings": 4096,
                "tie_word_embeddings": False,
            }
        )
    )
    (folder / "args.sh").write_text(
        f"--num-layers {layers} --hidden-size {d} --ffn-hidden-size {d_ff} --num-attention-heads {heads} "
        f"--group-query-attention --num-query-groups {kv} --seq-length 4096 --vocab-size {vocab * 128} --swiglu "
        "--normalization RMSNorm --position-embedding-type rope --disable-bias-linear "
        "--untie-embeddings-and-output-weights\n"
    )
    assert read_config(folder / "config.json").shape == read_config(folder / "args.sh").shape


def test_published_counts_from_published_configs(tmp_path):
    """Configs read back and counted by recipe.Shape give the published parameter counts exactly: SmolLM-135M's
    nanotron config 134,515,008 and Megatron-LM's Llama 3 8B example 8,030,261,248 (issues 21 and 24); Llama 2 7B's
    Hugging Face config (meta-llama/Llama-2-7b-hf config.json) 6,738,415,616; GPT-2 small's
    (openai-community/gpt2 config.json) 124,439,808, biases, learned positions and tied embeddings included."""
    assert read_config(DATA / "smollm1-135M-nanotron.yaml").to_shape().total_params == 134_515_008
    assert read_config(DATA / "megatron-llama3-8b-h100-fp8.sh").to_shape().total_params == 8_030_261_248
    llama2 = tmp_path / "llama2.json"
    llama2.write_text(
        json.dumps(
            {
                "model_type": "llama",
                "hidden_size": 4096,
                "intermediate_size": 11008,
                "num_hidden_layers": 32,
                "num_attention_heads": 32,
                "num_key_value_heads": 32,
                "vocab_size": 32000,
                "max_position_embeddings": 4096,
                "tie_word_embeddings": False,
            }
        )
    )
    assert read_config(llama2).to_shape().total_params == 6_738_415_616
    gpt2 = tmp_path / "gpt2.json"
    gpt2.write_text(
        json.dumps(
            {"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024, "vocab_size": 50257}
        )
    )
    assert read_config(gpt2).to_shape().total_params == 124_439_808
