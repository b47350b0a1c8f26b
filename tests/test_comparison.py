"""The one comparison path: error metrics by hand, and two backends timed on the same case."""

import numpy as np
import pytest

from spicelim import Crossbar, agreement, compare_backends
from spicelim.errors import InvalidParameterError, ShapeError


def test_agreement_by_hand():
    ref = np.array([[1.0, -4.0], [2.0, 0.0]])
    got = np.array([[1.5, -4.0], [2.0, -1.0]])
    a = agreement(got, ref)
    assert a.max_abs == 1.0 and a.scale == 4.0 and a.max_rel == 0.25 and a.count == 4
    assert a.rms_abs == pytest.approx(np.sqrt((0.25 + 1.0) / 4))
    assert a.norm_error == pytest.approx(np.sqrt(1.25) / np.sqrt(21.0))
    masked = agreement(got, ref, scale=2.0, mask=np.array([[True, True], [True, False]]))
    assert masked.max_abs == 0.5 and masked.max_rel == 0.25 and masked.count == 3
    empty = agreement(got, ref, mask=np.zeros((2, 2), bool))
    assert empty.max_abs == 0.0 and empty.count == 0
    assert agreement(np.zeros(3), np.zeros(3)).max_rel == 0.0


def test_agreement_refuses_what_it_cannot_measure():
    with pytest.raises(ShapeError):
        agreement(np.ones(3), np.ones(4))
    with pytest.raises(InvalidParameterError, match="finite"):
        agreement(np.array([np.nan]), np.ones(1))
    with pytest.raises(InvalidParameterError, match="zero everywhere"):
        agreement(np.ones(2), np.zeros(2))
    with pytest.raises(InvalidParameterError, match="scale"):
        agreement(np.ones(2), np.ones(2), scale=0.0)


def test_compare_backends_times_both_and_keeps_their_answers():
    g = np.random.default_rng(0).uniform(1e-6, 2e-5, (16, 16))
    v = np.random.default_rng(1).uniform(-0.2, 0.2, (4, 16))
    with Crossbar(16, 16, r_row=2.5, r_col=2.5, backend="fast") as xb:
        xb.set_conductance(g)
        cmp = compare_backends(lambda b: xb.read(v, backend=b), candidate="ideal", reference="fast")
    assert (cmp.candidate, cmp.reference) == ("ideal", "fast")
    np.testing.assert_allclose(cmp.candidate_result, v @ g, rtol=1e-12)
    assert cmp.candidate_seconds > 0 and cmp.reference_seconds > 0 and cmp.speedup > 0
    want = agreement(v @ g, cmp.reference_result)
    assert cmp.agreement == want and 0 < want.max_rel < 0.1  # 2.5 ohm wires on 16 x 16: a few per cent
    with pytest.raises(InvalidParameterError, match="callable"):
        compare_backends(3)
