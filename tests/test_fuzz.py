"""Fuzzing the public API with hypothesis: every call fails with a spicelim typed error or returns
finite numbers, within a time limit, whatever it is given (tests/fuzz_calls.py lists the calls).

CI runs a short derandomised pass; SPICELIM_FUZZ_EXAMPLES=N runs N random examples per call
(scripts/fuzz_api.py does the same and prints what it tried)."""

import os

import pytest
from fuzz_calls import CALLS, call_once
from hypothesis import HealthCheck, given, settings

EXAMPLES = int(os.environ.get("SPICELIM_FUZZ_EXAMPLES", "30"))
LONG = "SPICELIM_FUZZ_EXAMPLES" in os.environ


@pytest.mark.parametrize("call", CALLS, ids=[c.name for c in CALLS])
def test_public_call_fails_typed_or_returns_finite_numbers(call):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG, database=None,
              suppress_health_check=list(HealthCheck))
    @given(call.arguments())
    def run(kwargs):
        call_once(call, kwargs)

    run()
