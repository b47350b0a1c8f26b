import os
import shutil

import numpy as np
import pytest


def _have_ngspice() -> bool:
    from spicelim.doctor import check_ngspice

    return shutil.which("ngspice") is not None and all(c.ok for c in check_ngspice())


HAVE_NGSPICE = _have_ngspice()


def pytest_collection_modifyitems(config, items):
    if HAVE_NGSPICE or os.environ.get("CI"):
        return  # in CI a missing ngspice must fail the ngspice tests, not skip them
    skip = pytest.mark.skip(reason="ngspice >= 46 with KLU and OSDI is not installed (run scripts/install.sh)")
    for item in items:
        if "spice" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def spice_backend(tmp_path_factory):
    from spicelim.spice import SpiceBackend

    backend = SpiceBackend(timeout_s=600, run_dir=tmp_path_factory.mktemp("runs"))
    yield backend
    backend.close()


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
