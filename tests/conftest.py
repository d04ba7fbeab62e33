import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Reproducible property tests in CI; a few more examples locally.
settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
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
