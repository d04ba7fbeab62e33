import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# One profile everywhere: property tests run the same fixed-seed examples on every machine, in CI or not (no
# environment variable changes what runs), so a failure one run finds, every run finds. A case they find becomes a
# regression test at that exact value (e.g. tests/test_recipe.py's d_model 512 GLU shape).
settings.register_profile(
    "scaleplan", derandomize=True, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("scaleplan")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


# Tests that need the published data in ../shared/data use the `shared_data` fixture, which marks them
# `shared_data`. They skip where the folder is absent; with SCALEPLAN_REQUIRE_SHARED=1 (.ci/run sets it whenever
# ../shared exists) a skipped shared_data test fails instead, so CI cannot pass without running them.
REQUIRE_SHARED = os.environ.get("SCALEPLAN_REQUIRE_SHARED", "") not in ("", "0")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout (real published data); skip where it is absent."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return path


@pytest.fixture(autouse=True)
def _no_user_hardware_file(tmp_path_factory, monkeypatch):
    """The bundled hardware presets only: a developer's own $XDG_CONFIG_HOME/scaleplan/hardware.yaml stays out."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "no-config"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_SHARED and report.skipped and item.get_closest_marker("shared_data") is not None:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} needs ../shared/data but was skipped ({report.longrepr}); "
            "SCALEPLAN_REQUIRE_SHARED is set, so a data-backed test may not skip"
        )
