"""Hardware presets against the reference rows (../shared/reference/hardware-memory-cost.md, table 1.1, each row
citing its vendor document or secondary source), the hardware-file schema, user files and price labels."""

import pytest

from scaleplan.cluster import cost
from scaleplan.core.errors import ScaleplanError

GIB = 1024**3 / 1e9

# preset: (dense BF16, dense FP8 or None, dense FP4 or None) in TFLOP/s; HBM label in GB (1e9 B); HBM TB/s; board W.
# Values from the vendor documents named in the reference table: NVIDIA datasheets halved from sparse (via
# ml-engineering / glennklockwood), DGX B200 guide, MLPerf system files, ROCm mi300.md, Google TPU docs,
# aws-neuron-sdk trainium2.rst, Intel Hot Chips 2024. None = not published / conflicting / no such path.
REFERENCE = {
    "a100-40gb": (312, None, None, 40, 1.555, 400),
    "a100-80gb": (312, None, None, 80, 2.039, 400),
    "a800": (312, None, None, 80, 2.039, 400),
    "h100": (989, 1979, None, 80, 3.35, 700),
    "h100-pcie": (756, 1513, None, 80, 2.0, 350),
    "h800": (989, 1979, None, 80, 3.35, 700),
    "h200": (989, 1979, None, 141, 4.8, 700),
    "b200": (2250, 4500, 9000, 180, 8.0, 1000),
    "gb200": (2500, 5000, 10000, 186, 8.0, 1200),
    "b300": (2250, 4500, None, 288, 8.0, None),  # FP4 and power conflicting
    "mi250x": (383, None, None, 128 * GIB, 3.2768, 500),  # ROCm lists GiB
    "mi300x": (1307.4, 2614.9, None, 192 * GIB, 5.3, 750),
    "mi325x": (1307.4, 2614.9, None, 256 * GIB, 6.0, 1000),
    "mi355x": (2516.6, 5000, None, 288 * GIB, 8.0, 1400),  # FP4 sparse/dense labelling conflicts
    "tpu-v4": (275, None, None, 32 * GIB, 1.2, 192),  # 192 W: measured max, not a TDP
    "tpu-v5e": (197, None, None, 16 * GIB, 0.819, None),
    "tpu-v5p": (459, 459, None, 95 * GIB, 2.765, None),
    "tpu-v6e": (918, 918, None, 32 * GIB, 1.638, None),
    "tpu7x": (2307, 4614, None, 192 * GIB, 7.37, None),
    "trainium2": (667, 1299, None, 96 * GIB, 2.9, None),
    "gaudi3": (1835, 1835, None, 128, 3.67, 900),
}


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_preset_matches_reference_row(key):
    bf16, fp8, fp4, mem_gb, tb_s, watts = REFERENCE[key]
    hw = cost.get_hardware(key)
    assert hw.peak("bf16") == pytest.approx(bf16 * 1e12, rel=1e-4)
    for precision, want, field in (("fp8", fp8, "fp8_flops"), ("fp4", fp4, "fp4_flops")):
        if want is None:
            assert getattr(hw, field) is None and hw.why_missing(field) != "not given"
            with pytest.raises(ScaleplanError, match=f"no dense {precision.upper()}"):
                hw.peak(precision)
        else:
            assert hw.peak(precision) == pytest.approx(want * 1e12, rel=1e-4)
    number, unit = hw.memory_vendor.split()  # the vendor's label; the device's own bytes: test_device_bytes_*
    assert float(number) * {"GB": 1.0, "GiB": GIB}[unit] == pytest.approx(mem_gb, rel=1e-6)
    assert hw.hbm_tb_s == pytest.approx(tb_s, rel=1e-4)
    assert (hw.power_w is None) == (watts is None)
    if watts is not None:
        assert hw.power_w == watts
    assert hw.source and hw.date and hw.status


def test_tpu_v5p_memory_is_gib():
    # Google: "HBM capacity per chip (GiB) 95"; JAX tpu_info encodes v5p as 103e9 bytes (96 GiB physical)
    assert cost.get_hardware("v5p").memory_gb == pytest.approx(102.0, abs=0.01)


MIB = 2**20
# Device memory as the device reports it (binary for every vendor), from public nvidia-smi / rocm-smi / hl-smi logs
# (secondary for the exact readout: see hardware.yaml memory_source), with the vendor's label beside it.
DEVICE_BYTES = {
    "h100": (81_559 * MIB, "80 GB"),  # nvidia-smi "81559MiB", H100 80GB HBM3
    "h800": (81_559 * MIB, "80 GB"),  # nvidia-smi "81559MiB", H800
    "h100-pcie": (81_559 * MIB, "80 GB"),  # nvidia-smi "81559MiB", H100 PCIe
    "h200": (143_771 * MIB, "141 GB"),  # nvidia-smi "143771MiB"
    "b200": (183_359 * MIB, "180 GB"),  # nvidia-smi "183359MiB"
    "gb200": (189_471 * MIB, "186 GB"),  # nvidia-smi "189471MiB"
    "b300": (275_040 * MIB, "288 GB"),  # nvidia-smi "275040MiB", B300 SXM6 AC
    "a100-80gb": (81_920 * MIB, "80 GB"),  # nvidia-smi "81920MiB", A100-SXM4-80GB
    "a100-40gb": (40_960 * MIB, "40 GB"),  # nvidia-smi "40960MiB", A100-SXM4-40GB
    "a800": (81_920 * MIB, "80 GB"),  # nvidia-smi "81920MiB", A800-SXM4-80GB
    "mi300x": (205_822_885_888, "192 GiB"),  # rocm-smi "VRAM Total Memory (B): 205822885888"
    "mi250x": (2 * 68_702_699_520, "128 GiB"),  # rocm-smi per GCD "68702699520", two GCDs per OAM
    "gaudi3": (131_072 * MIB, "128 GB"),  # hl-smi "131072MiB", HL-325L
    "tpu-v4": (32 * 2**30, "32 GiB"),  # Google prints GiB (JAX tpu_info 34.4e9 B)
    "trainium2": (96 * 2**30, "96 GiB"),  # Neuron docs print GiB
}


@pytest.mark.parametrize("key", sorted(DEVICE_BYTES))
def test_device_bytes_as_reported(key):
    want, label = DEVICE_BYTES[key]
    hw = cost.get_hardware(key)
    assert hw.memory_bytes == want and hw.memory_vendor == label and hw.memory_source
    assert hw.to_dict()["memory_bytes"] == want


def test_nvidia_is_no_longer_smaller_than_its_label():
    # the issue-22 bug: "80 GB" read as 80e9 bytes made an H100 ~6% smaller than the device (85.52e9 B)
    assert cost.get_hardware("h100").memory_bytes / 80e9 == pytest.approx(1.069, abs=0.001)


def test_user_label_without_readout_is_converted_and_a_bad_readout_refused(tmp_path):
    f = tmp_path / "hw.yaml"
    f.write_text("h100:\n  memory: 94\n  memory_unit: GB\n")
    hw = cost.get_hardware("h100", hardware_file=f)
    assert hw.memory_bytes == 94e9 and hw.memory_source == "the label 94 GB"
    g = tmp_path / "bad.yaml"
    g.write_text("h100:\n  memory_bytes: 81559\n")
    with pytest.raises(ScaleplanError, match="memory_bytes 81559 is not within"):
        cost.get_hardware("h100", hardware_file=g)


def test_every_price_has_a_source_or_a_reason():
    for hw in {h.key: h for h in cost.presets().values()}.values():
        if hw.price_per_hour is None:
            assert hw.why_missing("price_per_hour") == "no published price"
            assert hw.price_label == f"no published price for {hw.key}; a dollar cost needs a price"
        else:
            assert hw.price_source and any(y in hw.price_source for y in ("2024", "2025"))
            assert hw.price_label.startswith(f"${hw.price_per_hour:.2f}/h, assumed: ")


def test_published_prices():
    # Sardana et al. 2024, beyond-chinchilla cost_calculator.py: A100_40 1.10, A100_80 1.50, H100 2.00
    assert [cost.get_hardware(k).price_per_hour for k in ("a100-40gb", "a100-80gb", "h100")] == [1.10, 1.50, 2.00]
    # Epoch AI Hardware prices.csv: Google Cloud on-demand 2025-03-03, TPU v6e $2.70, v5e $1.20, v4 $3.22
    assert [cost.get_hardware(k).price_per_hour for k in ("tpu-v6e", "tpu-v5e", "tpu-v4")] == [2.70, 1.20, 3.22]


def test_peak_flops_keeps_the_other_figures():
    hw = cost.get_hardware(None, 1.5e15)
    assert hw.peak() == 1.5e15 and hw.power_w == 700 and hw.memory_bytes == 81_559 * 2**20
    c = cost.training_cost(1e23, hw, 0.4, 2.0, 8)
    assert c.kwh is not None and c.kwh_facility is not None


def test_precision_picks_the_dense_peak_and_says_when_missing():
    c = cost.training_cost(1e23, cost.get_hardware("h800"), 0.2, 2.0, 8, precision="fp8")
    assert c.peak_flops == 1.979e15
    with pytest.raises(ScaleplanError, match="a100-80gb has no dense FP8 peak"):
        cost.training_cost(1e23, cost.get_hardware("a100"), 0.4, 1.5, 8, precision="fp8")
    with pytest.raises(ScaleplanError, match="precision must be one of"):
        cost.get_hardware("h100").peak("fp16")


def test_no_price_means_no_dollars_and_says_so():
    c = cost.training_cost(1e23, cost.get_hardware("mi300x"), 0.4, None, 8)
    assert c.dollars is None and c.price_label == "no published price for mi300x; a dollar cost needs a price"
    assert cost.training_cost(1e23, cost.get_hardware("mi300x"), 0.4, 1.99, 8).price_label == "$1.99/h, given"


def test_energy_not_published_is_said():
    c = cost.training_cost(1e23, cost.get_hardware("tpu-v6e"), 0.4, 2.7, 8)
    assert c.kwh is None and c.energy_note == "board power of tpu-v6e: not published"


BASE = dict(
    name="X",
    peak_flops=1e15,
    fp8_flops=2e15,
    fp4_flops=None,
    memory=100,
    memory_unit="GB",
    hbm_tb_s=4,
    power_w=800,
    scaleup_gb_s=900,
    price_per_hour=None,
    source="s",
    date="2026",
    status="made up",
    missing={"fp4_flops": "none", "price_per_hour": "no published price"},
)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"peak_flop": 1}, "unknown field 'peak_flop' .did you mean 'peak_flops'"),
        ({"power_w": "700 W"}, "power_w must be a positive number or null"),
        ({"power_w": True}, "power_w must be a positive number"),
        ({"power_w": None}, "power_w is empty; say why under missing"),
        ({"missing": {"fp4_flops": "none"}}, "price_per_hour is empty"),
        ({"missing": {"fp4_flops": "x", "price_per_hour": "x", "fp8_flops": "y"}}, "fp8_flops is given"),
        ({"memory_unit": "TB"}, "memory_unit must be GB or GiB"),
        ({"price_per_hour": 3.0, "missing": {"fp4_flops": "x"}}, "a price needs price_source"),
        ({"aliases": "x"}, "aliases must be a list"),
        ({"kind": "fpga"}, "kind must be one of"),
        ({"name": ""}, "name must be a non-empty text"),
    ],
)
def test_schema_errors(change, message):
    with pytest.raises(ScaleplanError, match=message):
        cost.check_hardware_spec("x", {**BASE, **change})


def test_bundled_file_passes_the_schema():
    raw = cost._yaml.read(cost._yaml.DATA / "hardware.yaml")
    for key, spec in raw.items():
        cost.check_hardware_spec(key, spec)


def test_user_file_adds_and_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    path = tmp_path / "hw.yaml"
    path.write_text(
        "mychip:\n"
        + "".join(f"  {k}: {v!r}\n" if not isinstance(v, dict) else f"  {k}: {v}\n" for k, v in BASE.items()).replace(
            "None", "null"
        )
        + "  aliases: [mine]\n"
        + "h100:\n  price_per_hour: 2.85\n  price_source: our contract, 2026-01\n"
    )
    table = cost.presets(path)
    assert table["mine"].key == "mychip" and table["mychip"].origin == str(path)
    h100 = cost.get_hardware("h100-sxm", hardware_file=path)
    assert h100.price_per_hour == 2.85 and h100.power_w == 700 and "our contract" in h100.price_label
    assert cost.get_hardware("h100").price_per_hour == 2.00  # the bundled presets are untouched


def test_user_file_in_config_folder(tmp_path, monkeypatch):
    (tmp_path / "scaleplan").mkdir()
    (tmp_path / "scaleplan" / "hardware.yaml").write_text("tpu-v5p:\n  price_per_hour: 4.2\n  price_source: quote\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    hw = cost.get_hardware("tpu-v5p")
    assert hw.price_per_hour == 4.2 and "price_per_hour" not in dict(hw.missing)


def test_a_hardware_file_lies_over_the_user_config_file(tmp_path, monkeypatch):
    # bundled presets, then $XDG_CONFIG_HOME/scaleplan/hardware.yaml, then --hardware-file: each adds or overrides
    (tmp_path / "scaleplan").mkdir()
    (tmp_path / "scaleplan" / "hardware.yaml").write_text(
        "h100:\n  price_per_hour: 3.5\n  price_source: my cloud contract\n"
        "a100-80gb:\n  price_per_hour: 1.1\n  price_source: old deal\n"
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    extra = tmp_path / "extra.yaml"
    extra.write_text("b200:\n  price_per_hour: 6.0\n  price_source: vendor quote, 2026-02\n")
    assert cost.get_hardware("h100", hardware_file=extra).price_per_hour == 3.5  # the config file still counts
    assert cost.get_hardware("b200", hardware_file=extra).price_per_hour == 6.0
    over = tmp_path / "over.yaml"
    over.write_text("a100-80gb:\n  price_per_hour: 1.3\n  price_source: new deal\n")
    assert cost.get_hardware("a100-80gb", hardware_file=over).price_source == "new deal"


def test_a_plan_labels_a_hardware_files_price_with_its_source(tmp_path):
    import scaleplan

    extra = tmp_path / "extra.yaml"
    extra.write_text("b200:\n  price_per_hour: 6.0\n  price_source: vendor quote, 2026-02\n")
    plan = scaleplan.plan(flops=1e21, hardware="b200", hardware_file=str(extra), inference_tokens=1e11)
    assert plan.cost.price_label == "$6.00/h, assumed: vendor quote, 2026-02"
    assert plan.inference is not None and plan.inference.costs.train_price == 6.0


@pytest.mark.parametrize(
    "text, message",
    [
        ("h100:\n  price_per_hour: 3.0\n", "a price needs price_source"),
        ("x:\n  aliases: [h100]\n", "name must be a non-empty text"),
        ("h200:\n  aliases: [h100-sxm]\n", "the name 'h100-sxm' is already taken by h100"),
        ("h100:\n  bogus: 1\n", "unknown field 'bogus'"),
        ("- a\n- b\n", "expected a mapping"),
        ("h100: [\n", "not valid YAML"),
    ],
)
def test_user_file_errors(tmp_path, text, message):
    path = tmp_path / "hw.yaml"
    path.write_text(text)
    with pytest.raises(ScaleplanError, match=message):
        cost.presets(path)


def test_missing_user_file_is_an_error(tmp_path):
    with pytest.raises(ScaleplanError, match="no such file"):
        cost.presets(tmp_path / "nope.yaml")


def test_a_bad_hardware_file_names_hardware_file(tmp_path):
    """The file's mistakes name the file argument (--hardware-file, hardware_file:), not the preset (--hardware)."""
    from scaleplan.pipeline.budget import Budget, BudgetFieldError

    binary = tmp_path / "hw.yaml"
    binary.write_bytes(b"\x00\x01\xff")
    for path, text in ((tmp_path / "nope.yaml", "no such file"), (binary, "a binary file"), (tmp_path, "is a folder")):
        with pytest.raises(ScaleplanError) as info:
            cost.get_hardware("h100", hardware_file=path)
        assert str(info.value).startswith(f"hardware_file: {path}: {text}")
        assert info.value.for_flags().startswith(f"--hardware-file: {path}: {text}")
        with pytest.raises(BudgetFieldError) as field:
            Budget.from_mapping({"flops": 1e21, "hardware": "h100", "hardware_file": str(path)}).resolve()
        assert field.value.path == "hardware_file" and field.value.for_flags().startswith("--hardware-file: ")
    with pytest.raises(ScaleplanError, match="hardware_file: must be a file name, got 5"):
        cost.presets(5)  # type: ignore[arg-type]
    # an unknown preset is still the preset's mistake
    with pytest.raises(BudgetFieldError) as field:
        Budget.from_mapping({"flops": 1e21, "hardware": "h1000"}).resolve()
    assert field.value.path == "hardware" and "did you mean 'h100'" in str(field.value)


def test_a_bad_user_config_file_is_named_not_blamed_on_a_flag(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from scaleplan.cli.app import app

    (tmp_path / "scaleplan").mkdir()
    (tmp_path / "scaleplan" / "hardware.yaml").write_text("foo:\n  aliases: [x]\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["allocate", "--flops", "1e21"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"scaleplan: error: {tmp_path / 'scaleplan' / 'hardware.yaml'}: foo:")
    assert "--hardware" not in result.stderr


def test_an_unknown_serving_chip_in_a_budget_file_names_its_line(tmp_path):
    from typer.testing import CliRunner

    from scaleplan.cli.app import app

    path = tmp_path / "b.yaml"
    path.write_text("flops: 1e22\ninference:\n  tokens: 1e12\n  hardware: nope\n")
    result = CliRunner().invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert f"{path}:4: inference.hardware: unknown hardware 'nope'" in result.stderr
    assert "--" not in result.stderr  # a file's error names keys, not flags


def test_a_price_the_user_gives_is_labelled_given_even_when_it_equals_the_presets():
    # a100-80gb's preset price is Sardana et al. 2024's default, $1.50/h (A100_80_DEFAULT_COST)
    import scaleplan

    assumed = scaleplan.plan(flops=1e21, hardware="a100-80gb").cost.price_label
    assert assumed.startswith("$1.50/h, assumed: Sardana et al. 2024")
    assert scaleplan.plan(flops=1e21, hardware="a100-80gb", price=1.5).cost.price_label == "$1.50/h, given"
    served = scaleplan.plan(flops=1e21, hardware="a100-80gb", price=1.5, inference_tokens=1e11).cost
    assert served.inference_price_label in ("$1.50/h, given", "as training")
    cluster = __import__("scaleplan.cluster.run", fromlist=["x"]).plan_cluster(
        flops=1e21, hardware="a100-80gb", price=1.5
    )
    assert cluster.cost.price_label == "$1.50/h, given"


def test_inference_aware_takes_a_hardware_file(tmp_path):
    from typer.testing import CliRunner

    from scaleplan.cli.app import app

    extra = tmp_path / "extra.yaml"
    extra.write_text("b200:\n  price_per_hour: 6.0\n  price_source: vendor quote, 2026-02\n")
    argv = ["inference-aware", "--flops", "1e22", "--inference-tokens", "1e12", "--hardware", "b200"]
    result = CliRunner().invoke(app, [*argv, "--hardware-file", str(extra), "-f", "markdown"])
    assert result.exit_code == 0, result.stderr
    assert "$6.00/h, assumed: vendor quote, 2026-02" in " ".join(result.stdout.split())


def test_tpu_v4_energy_from_its_measured_mean_draw():
    # Google Cloud TPU v4 doc: measured power min/mean/max 90/170/192 W (not a TDP). Epoch AI's TPU fraction of TDP
    # (0.43) on the 192 W maximum gave 83 W; the average draw is now the measured mean, 170 W.
    hw = cost.get_hardware("tpu-v4")
    a = cost.Energy().resolved(hw)
    assert hw.power_w * a["tdp_fraction"] == pytest.approx(170.0)
    assert a["average_draw"] == "measured mean 170 W"
    assert cost.Energy(tdp_fraction=0.43).resolved(hw)["tdp_fraction"] == 0.43  # a given fraction still wins


def test_server_factors_say_whether_they_are_epochs_or_extensions():
    # Epoch AI training-cost-trends chip_to_server_power: H100 (10.2/8)/0.7 = 1.82, A100 (6.5/8)/0.4 = 2.03, other
    # TPUs 1.56, default 1.8 for chips it does not list (H800, H200, A800: extended here)
    for key, x in (("h100", 1.82), ("a100-80gb", 2.03), ("tpu-v5p", 1.56)):
        a = cost.Energy().resolved(cost.get_hardware(key))
        assert a["server_power_x"] == x and a["server_power_basis"].startswith("Epoch AI's code")
    for key, x in (("h800", 1.82), ("h200", 1.82), ("a800", 2.03)):
        a = cost.Energy().resolved(cost.get_hardware(key))
        assert a["server_power_x"] == x and a["server_power_basis"].startswith("extension of Epoch AI's code")
        assert "1.8 default" in a["server_power_basis"]
    a = cost.Energy().resolved(cost.get_hardware("b200"))
    assert a["server_power_x"] == 1.8 and "default" in a["server_power_basis"]
