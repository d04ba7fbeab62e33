"""The fast path stays fast: heavy modules are imported only by the functions that need them."""

import subprocess
import sys

HEAVY = ("scipy", "matplotlib", "pandas")  # typer itself may bring pydantic (typer >= 0.2x depends on it)


def loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.split()[-1000:]) if out else set()


def test_library_import_pulls_in_no_cli_and_no_heavy_modules():
    loaded = loaded_after("import scaleplan")
    assert "typer" not in loaded and "rich" not in loaded
    assert not loaded & set(HEAVY)


def test_allocate_command_does_not_import_scipy_or_matplotlib():
    code = (
        "import io, contextlib\n"
        "from scaleplan.cli.app import app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        app(['allocate', '--flops', '1e21'], standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
    )
    loaded = loaded_after(code)
    assert "scaleplan" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_public_api_resolves_lazily():
    import importlib

    import scaleplan
    from scaleplan.fit import parametric as fit
    from scaleplan.pipeline import constrained, inference, moe
    from scaleplan.recipe import design as recipe

    allocate = importlib.import_module("scaleplan.pipeline.optimal")

    for name in scaleplan.__all__:  # every public name imports as it did before the parts became folders
        namespace: dict = {}
        exec(f"from scaleplan import {name}", namespace)
        obj = namespace[name]
        assert getattr(obj, "__module__", "scaleplan").startswith("scaleplan"), name
    # the lazy names are the modules' own objects, not copies (functions behind the argument check of
    # scaleplan.core.errors.checked, which keeps the function as __wrapped__)
    own = lambda obj: getattr(obj, "__wrapped__", obj)
    assert own(scaleplan.inference_aware) is inference.inference_aware and scaleplan.Shape is recipe.Shape
    assert own(scaleplan.fit_parametric) is fit.fit_parametric and own(scaleplan.moe_allocation) is moe.moe_allocation
    assert own(scaleplan.fixed_allocation) is constrained.fixed_allocation
    assert own(scaleplan.allocate) is allocate.allocate
    assert scaleplan.DEFAULT_LAW == "epoch" and "epoch" in scaleplan.law_names()
    assert set(dir(scaleplan)) >= set(scaleplan.__all__)
    # the parts are packages, the functions keep their names: `scaleplan.allocate` and `scaleplan.fit_vp` are
    # functions, not the modules they live in
    assert callable(scaleplan.allocate) and callable(scaleplan.fit_vp)
    assert scaleplan.plot.__name__ == "scaleplan.present.plot"
