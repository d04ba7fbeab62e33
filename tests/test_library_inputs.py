"""The library validates its own inputs: ScaleplanError naming the argument (never a CLI flag), not a numpy error."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scaleplan
from scaleplan.core.errors import ScaleplanError
from scaleplan.schema.units import fmt_dollars, fmt_duration


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mfu": -0.5}, "mfu must be in (0, 1]"),
        ({"mfu": 1.5}, "mfu must be in (0, 1]"),
        ({"mfu": float("nan")}, "mfu must be a finite number"),
        ({"price": -3}, "price must be positive"),
        ({"gpus": 0}, "gpus must be a whole number of at least 1"),
        ({"gpus": 2.5}, "gpus must be a whole number"),
        ({"peak_flops": 0}, "peak_flops must be positive"),
        ({"inference_tokens": -1}, "inference_tokens must be zero or more"),
    ],
)
def test_allocate_names_the_bad_argument(kwargs, message):
    with pytest.raises(ScaleplanError) as info:
        scaleplan.allocate(1e21, **kwargs)
    assert message in str(info.value) and "--" not in str(info.value)


@pytest.mark.parametrize("flops", ["70B", "1e21", None, True, [1e21, "x"], object()])
def test_allocate_takes_numbers_not_text(flops):
    with pytest.raises(ScaleplanError, match="flops must be a number"):
        scaleplan.allocate(flops)


def test_money_and_time_as_a_person_writes_them():
    assert [fmt_dollars(x) for x in (12.5, 1404, 350_000, 1.4e6, 2.1e9)] == [
        "$12.50",
        "$1,404",
        "$350,000",
        "$1.40M",
        "$2.10B",
    ]
    assert [fmt_duration(d) for d in (0.0286, 0.2, 1.5, 65.1, 800)] == [
        "41 min",
        "4.8 h",
        "36 h",
        "65 days",
        "2.2 years",
    ]


@given(st.floats(min_value=2e-5, max_value=1e9))  # from about 2 s
def test_durations_never_print_a_fraction_of_a_day(days):
    text = fmt_duration(days)
    assert not text.startswith("0.0") and text.split()[-1] in ("s", "min", "h", "days", "years")


def test_array_valued_plans_compare_without_raising():
    import numpy as np

    budgets = np.array([1e20, 1e21])
    assert scaleplan.allocate(budgets) == scaleplan.allocate(budgets)
    assert scaleplan.allocate(budgets) != scaleplan.allocate(budgets * 10)
    assert scaleplan.allocate(1e21) == scaleplan.allocate(1e21)


def _fails(call, message):
    """`call` raises a ScaleplanError whose message has `message` and names its argument with a mark."""
    with pytest.raises(ScaleplanError) as info:
        call()
    assert message in str(info.value), str(info.value)
    assert "--" not in str(info.value)
    assert "<" in info.value.template  # the argument is marked: the CLI would show it as a flag
    return info.value


H100 = scaleplan.get_hardware("h100")


@pytest.mark.parametrize(
    "args, message",
    [
        ((1e21, H100, -1, 2.0, 1024), "mfu must be in (0, 1], got -1"),
        ((1e21, H100, 0.4, 2.0, 0), "gpus must be a whole number of at least 1, got 0"),
        ((1e21, H100, 0.4, 2.0, 2.5), "gpus must be a whole number"),
        ((-1e21, H100, 0.4, 2.0, 1024), "flops must be positive and finite"),
        ((0.0, H100, 0.4, 2.0, 1024), "flops must be positive and finite"),
        (("1e21", H100, 0.4, 2.0, 1024), "flops must be a number"),
        ((1e21, H100, 0.4, -2.0, 1024), "price must be positive, got -2.0"),
        ((1e21, H100, 0.4, "2", 1024), "price must be a finite number"),
        ((1e21, 5, 0.4, 2.0, 1024), "hw must be a Hardware"),
        ((1e21, None, 0.4, 2.0, 1024), "hw must be a Hardware"),
        ((1e21, "h1000", 0.4, 2.0, 1024), "hw: unknown hardware 'h1000'; did you mean 'h100'"),
    ],
)
def test_training_cost_names_the_bad_argument(args, message):
    _fails(lambda: scaleplan.training_cost(*args), message)


def test_training_cost_takes_a_preset_name():
    """hw='h100' is the h100 preset. 1e21 FLOPs at 40% of 989 TFLOP/s (H100 SXM dense BF16) is 702.2 GPU-hours."""
    by_name = scaleplan.training_cost(1e21, "h100", 0.4, 2.0, 1024)
    assert by_name == scaleplan.training_cost(1e21, H100, 0.4, 2.0, 1024)
    assert by_name.gpu_hours == pytest.approx(1e21 / (0.4 * 989e12) / 3600, rel=1e-3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(inference_tokens=1e12, flops=1e21, context=-5), "context must be a whole number from 1 to 16,777,216"),
        (dict(inference_tokens=1e12, flops=1e21, context=1e9), "context must be a whole number"),
        (dict(inference_tokens=1e12, flops=1e21, context=2048.5), "context must be a whole number"),
        (dict(inference_tokens="1T", flops=1e21), "inference_tokens must be a number or an array of numbers"),
        (dict(inference_tokens=None, flops=1e21), "inference_tokens must be a number"),
        (dict(inference_tokens=[1e12, "x"], flops=1e21), "inference_tokens must be a number"),
        (dict(inference_tokens=1e40, flops=1e21), "inference_tokens: 1e40 tokens is beyond any plan (more than 1e18)"),
        (dict(inference_tokens=-1, flops=1e21), "inference_tokens must be zero or positive"),
        (dict(inference_tokens=1e12, target_loss="2.1"), "target_loss must be a number"),
        (dict(inference_tokens=1e12, flops=1e21, costs=5), "costs must be a ServingCosts"),
    ],
)
def test_inference_aware_names_the_bad_argument(kwargs, message):
    tokens = kwargs.pop("inference_tokens")
    _fails(lambda: scaleplan.inference_aware(tokens, **kwargs), message)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(hardware=5), "hardware must be a hardware preset name such as 'h100', got 5"),
        (dict(hardware=""), "hardware must be a hardware preset name"),
        (dict(inference_hardware=["h100"]), "inference_hardware must be a hardware preset name"),
        (dict(mfu="0.4"), "mfu must be a number"),
        (dict(prefill_mfu=float("nan")), "prefill_mfu must be finite"),
        (dict(prompt_share=[0.5]), "prompt_share must be a number"),
        (dict(price=-1), "price must be positive"),
        (dict(peak_flops=0), "peak_flops must be positive"),
        (dict(peak_flops="1e15"), "peak_flops must be a number"),
        (dict(inference_bits="8"), "inference_bits must be 16 or 8"),
    ],
)
def test_serving_costs_names_the_bad_argument(kwargs, message):
    _fails(lambda: scaleplan.serving_costs(**kwargs), message)


@pytest.mark.parametrize("runs", [None, "runs.csv", [(1e8, 1e9, 3.0)], 5])
def test_fits_take_runs(runs):
    from scaleplan.fit import parametric as fit
    from scaleplan.fit import resample

    for call in (fit.fit_parametric, resample.bootstrap, fit.fit_isoflop):
        error = _fails(lambda call=call: call(runs), "runs must be a Runs (scaleplan.load_runs(path)")
        assert ("load_runs(path)" in str(error)) and type(runs).__name__ in str(error)


def test_bootstrap_and_fit_arguments():
    import numpy as np

    from scaleplan.fit import parametric as fit
    from scaleplan.fit import resample

    n = np.array([5e7, 1e8, 2e8, 4e8, 8e8, 1.6e9])
    d = 20 * n
    runs = fit.Runs(params=n, tokens=d, flops=6 * n * d, loss=1.8 + 400 / n**0.34 + 400 / d**0.28)
    _fails(lambda: fit.fit_parametric(runs, refine="many"), "refine must be a whole number of at least 1")
    _fails(lambda: fit.fit_parametric(runs, delta=True), "delta must be a positive number")
    _fails(lambda: resample.bootstrap(runs, n=10, levels="0.8"), "levels must be a number or a list of numbers")
    _fails(lambda: resample.bootstrap(runs, n=10, levels=[1.5]), "levels must lie strictly between 0 and 1")
    _fails(lambda: resample.bootstrap(runs, n=10, budgets=None), "budgets must be a number or a list of numbers")
    _fails(lambda: resample.bootstrap(runs, n=10, budgets=[-1]), "budgets must be positive FLOP counts")
    _fails(lambda: resample.bootstrap(runs, n=10, fit=5), "fit must be a ParametricFit")
    _fails(lambda: fit.fit_isoflop(runs, gap="0.1"), "gap must be a positive number of decades")
    _fails(lambda: fit.fit_isoflop(runs, min_sizes=2), "min_sizes must be a whole number of at least 3")


def test_absurd_demand_is_refused_before_planning():
    """plan and inference_aware refuse 1e40 tokens to serve alike, naming the argument, before any warning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fails(lambda: scaleplan.inference_aware(1e40, flops=1e21), "inference_tokens: 1e40 tokens is beyond any")
    with pytest.raises(ScaleplanError) as info:
        scaleplan.plan(flops=1e21, inference_tokens=1e40)
    assert str(info.value) == "inference_tokens: 1e40 tokens is beyond any plan (more than 1e18); check the units"
    with pytest.raises(ScaleplanError, match=r"inference\.tokens: 1e19 tokens is beyond any plan"):
        scaleplan.plan(flops=1e21, inference={"tokens": 1e19})
    assert scaleplan.plan(flops=1e21, inference_tokens=1e18).params > 0  # the cap itself is allowed
    _fails(lambda: scaleplan.allocate(1e21, inference_tokens=1e40), "inference_tokens: 1e40 tokens is beyond any")


def test_cost_settings_are_marked_for_the_cli():
    error = _fails(lambda: scaleplan.allocate(1e21, mfu=1.5), "mfu must be in (0, 1]")
    assert error.for_flags().startswith("--mfu must be in (0, 1]")
