"""The public calls the fuzz test drives, each with valid arguments and a pool of hostile values.

A call either raises a spicelim typed error (SpicelimError), or returns a result whose numbers
are all finite, within a time limit. Anything else (another exception, a hang, NaN or inf in a
result) is a failure. Used by tests/test_fuzz.py (a short derandomised run in CI) and by
scripts/fuzz_api.py (a longer run that prints what it tried).
"""

from __future__ import annotations

import dataclasses
import signal
from contextlib import chdir, contextmanager
from fractions import Fraction
from pathlib import Path
from tempfile import mkdtemp

import numpy as np
from hypothesis import strategies as st

import spicelim
from spicelim import Crossbar, Variability
from spicelim.bias import LineBias, forward
from spicelim.comparison import agreement
from spicelim.devices import VTEAM, SoftBoundsRRAM, StanfordPKU, Yakopcic, simulate
from spicelim.devices.nmos import NmosSelector
from spicelim.errors import SpicelimError
from spicelim.fast.closed_forms import first_order, series_path
from spicelim.learning import (
    AnalogLinear,
    DigitalLinear,
    Network,
    TileSpec,
    Trainer,
    load_digits,
    make_dataset,
    read_idx,
)
from spicelim.learning.cnn import ConvNetSpec, ConvNetwork, train_software
from spicelim.learning.conv import AnalogConv2d, DigitalConv2d, max_pool
from spicelim.learning.evaluate import evaluate_on_arrays
from spicelim.learning.experiment import RunConfig, run_experiment
from spicelim.learning.rules import RULES
from spicelim.netlist import format_read_netlist, safe_name, safe_text
from spicelim.params import CrossbarParams
from spicelim.periphery import (
    ADC,
    DAC,
    TIA,
    DifferentialPairs,
    bit_serial,
    measure_dnl_inl,
    pwm,
    read_bit_serial,
    read_cost,
    read_dac,
    read_pwm,
    read_signed,
    shift_add,
    split_sign,
)
from spicelim.programming import (
    PulseSchedule,
    PulseTiming,
    WritePulses,
    array_update,
    cell_slot,
    outer_product,
    program_open_loop,
    row_slot,
    row_update,
    write_verify,
)
from spicelim.spice import SpiceBackend
from spicelim.studies.adc_study import run_adc_study
from spicelim.studies.disturb import half_select_disturb
from spicelim.studies.fast_model_validation import validation_task
from spicelim.studies.read_study import run_read_study
from spicelim.studies.reproduce import with_setting
from spicelim.studies.yao2020 import Yao2020Config
from spicelim.sweeps import SweepSpec, SweepTask, load_results, run_point

TIME_LIMIT_S = 120.0  # longer than any valid call here takes (a 2e5-step transient: about 60 s); past it: a hang

# Values that break naive code: non-numbers, NaN and inf, numbers beyond float range, subnormals,
# exact fractions, text that looks like netlist commands, wrong shapes and dtypes, ragged lists.
HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10), st.integers(-2**80, 2**80),
    st.sampled_from([10**400, -10**400, 10**5000, 5e-324, -5e-324, 1e-300, 1e300, -0.0, float("nan"), float("inf"),
                     float("-inf"), Fraction(1, 3), 1 + 2j, np.float32(1e-45), np.int64(2**62)]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6),
    st.sampled_from(["", "fast", "spice", "V/2", "1T1R", "t\x1e.inc /etc/passwd", "x\nshell touch /tmp/p",
                     "cellmodel", "\x00"]),
    st.lists(st.floats(-1, 1), max_size=4), st.just([[0.1, 0.2], [0.3]]),
    st.sampled_from([np.array([]), np.zeros((2, 3)), np.full((3, 2), np.nan), np.array(["a", "b"]),
                     np.array([1 + 1j]), np.ones((3, 2), dtype=np.float16), np.full((3, 2), 1e300),
                     np.arange(3), np.ones((1, 1, 1)), object()]),
)


@dataclasses.dataclass(frozen=True)
class PublicCall:
    """One public call: `run(**kwargs)` with `valid` arguments; each may be replaced by a hostile value."""

    name: str
    run: object
    valid: dict
    extra: dict = dataclasses.field(default_factory=dict)  # name -> strategy of further values to try

    def arguments(self):
        """Each argument valid half of the time, else hostile (or one of its `extra` values)."""
        def one(name, valid):
            other = st.one_of(HOSTILE, self.extra[name]) if name in self.extra else HOSTILE
            return st.booleans().flatmap(lambda keep: st.just(valid) if keep else other)

        return st.fixed_dictionaries({k: one(k, v) for k, v in self.valid.items()})


class Hang(Exception):
    """A call ran past TIME_LIMIT_S."""


@contextmanager
def time_limit(seconds: float):
    def alarm(signum, frame):
        raise Hang(f"no answer within {seconds:g} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def non_finite(value, depth: int = 0) -> str | None:
    """Where `value` holds a NaN or an infinity (None if nowhere)."""
    if depth > 4 or value is None:
        return None
    if isinstance(value, (bool, str, bytes, Path)):
        return None
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return repr(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
        return f"array with {int(np.sum(~np.isfinite(value)))} non-finite entries"
    if isinstance(value, (list, tuple)):
        return next((w for v in value if (w := non_finite(v, depth + 1))), None)
    if isinstance(value, dict):
        return next((w for v in value.values() if (w := non_finite(v, depth + 1))), None)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return next((f"{f.name}: {w}" for f in dataclasses.fields(value)
                     if (w := non_finite(getattr(value, f.name), depth + 1))), None)
    return None


def call_once(call: PublicCall, kwargs: dict) -> str:
    """Run one call: "ok" or "typed error"; raises AssertionError on anything else."""
    try:
        with time_limit(TIME_LIMIT_S):
            out = call.run(**kwargs)
    except SpicelimError:
        return "typed error"
    except Hang:
        raise AssertionError(f"{call.name} hung on {kwargs!r}") from None
    where = non_finite(out)
    assert where is None, f"{call.name} returned a non-finite result ({where}) for {kwargs!r}"
    return "ok"


# ----------------------------------------------------------------------------- fixtures of the calls
G = np.random.default_rng(0).uniform(2e-6, 2e-5, (3, 2))
DEV = SoftBoundsRRAM()
RUNS = Path(mkdtemp(prefix="spicelim-fuzz-"))


def linear_array(**kw) -> Crossbar:
    xb = Crossbar(3, 2, r_row=1.0, r_col=1.0, backend="fast", **kw)
    xb.set_conductance(G)
    return xb


def memristor_array(cell="0T1R", **kw) -> Crossbar:
    xb = Crossbar(3, 2, cell=cell, r_row=1.0, r_col=1.0, device=DEV, backend="fast", **kw)
    xb.set_state(np.full((3, 2), 8e-6))
    return xb


def periphery_array() -> Crossbar:
    return linear_array(tia=TIA(r_f=2e4), adc=ADC(bits=6, full_scale=0.5))


def schedule(counts=((1, -1), (0, 1), (-1, 0))):
    return WritePulses().schedule((3, 2), "0T1R", np.array(counts))


def _read(v, backend, transpose, quantizer):
    return periphery_array().read(v, backend=backend, transpose=transpose, quantizer=quantizer)


def _apply(schedule, backend, max_step, measure_energy):
    return memristor_array().apply_pulses(schedule, backend=backend, max_step=max_step, measure_energy=measure_energy)


def _netlist(title, r_row, v, save_rows, save_nodes):
    p = CrossbarParams(3, 2, r_row=r_row, r_col=1.0)
    return format_read_netlist(p, G, forward(v, 2, 0.0), title=title, save_rows=save_rows, save_nodes=save_nodes).text


def _read_1t1r(w, v_gate, v):
    xb = Crossbar(3, 2, "1T1R", r_row=1.0, r_col=1.0, selector=NmosSelector(w=w, v_gate=v_gate), backend="fast")
    xb.set_conductance(G)
    return xb.read(v)


def _read_tia(r_f, gain, v_out_max, v):
    xb = Crossbar(3, 2, r_row=1.0, r_col=1.0, tia=TIA(r_f=r_f, gain=gain, v_out_max=v_out_max), backend="fast")
    xb.set_conductance(G)
    return xb.read(v)


def _layer(n_in, n_out, bias, seed, w, x):
    layer = AnalogLinear(n_in, n_out, TileSpec(max_rows=3, max_cols=2, r_wire=1.0), bias=bias, seed=seed)
    layer.set_weights(w)
    return layer if x is None else layer.forward(x)


TINY_CNN = ConvNetSpec(image=(6, 6), stages=((2, 3, 2),), classes=2)


def _analog_conv(kernel, groups, group, images, input_bits):
    spec = TileSpec(max_rows=10, max_cols=4, r_wire=1.0, input_bits=input_bits)
    conv = AnalogConv2d(1, 2, kernel, spec, groups=groups)
    conv.set_weights(np.full((conv.n_in, 2), 0.3))
    return conv.forward(images, group=group)


def _slot_layer():
    """A 3-input, 2-output layer (bias row) on 1T1R tiles of 3 x 2 pairs, updated by the slot engine."""
    layer = AnalogLinear(3, 2, TileSpec(max_rows=3, max_cols=2, r_wire=1.0, backend="fast-slots"), seed=0)
    layer.set_weights(np.full((3, 2), 0.3))
    return layer


def _evaluate(x, y, batch, backend):
    """A 3-2 layer on a 2 x 2 grid of tiles, evaluated on Dask (one worker) into a fresh folder."""
    net = Network([_slot_layer()], "relu")
    return evaluate_on_arrays(net, x, y, Path(mkdtemp(dir=RUNS)) / "eval", backend=backend, batch=batch, workers=1,
                              progress=False).accuracy


def _rule_step(rule, lr, x, d):
    """Build the named rule on a fresh layer with learning rate lr and take one step on (x, d)."""
    layer = _slot_layer()
    if rule == "sgd":
        r = RULES[rule](DigitalLinear(3, 2), lr)
    else:
        r = RULES[rule](layer, lr, **({"threshold": 0.01} if rule == "threshold" else {}))
    return r.step(x, d)


def _in_runs(call):
    """Run `call` with the fuzz directory as working directory (a hostile relative run_dir lands there)."""
    def run(*args, **kwargs):
        with chdir(RUNS):
            return call(*args, **kwargs)
    return run


@_in_runs
def _train(epochs, batch_size, seed, run_dir):
    """A digital 4-3-2 network trained by SGD on 12 samples."""
    data = make_dataset("fuzz", images=np.arange(48).reshape(12, 4) % 5, labels=np.repeat([0, 1], 6),
                        image_shape=(2, 2), test_fraction=0.25, seed=0)
    net = Network([DigitalLinear(4, 3, seed=1), DigitalLinear(3, 2, seed=2)], "relu")
    rules = [RULES["sgd"](layer, 0.1) for layer in net.layers]
    return Trainer(net, rules, data, epochs=epochs, batch_size=batch_size, seed=seed, run_dir=run_dir,
                   progress=False).run()


TINY_RUN = {"network": {"sizes": [64, 10]}, "software": {"epochs": 1},
            "training": {"mode": "in-situ", "rule": "mixed", "epochs": 1, "batch_size": 50, "backends": ["fast-slots"]},
            "data": {"fraction": 0.05}, "arrays": {"rows": 80, "cols": 20}}


def _sweep_point(task, **params):
    """One point of a sweep; a point whose parameters fail the task's check raises, as run_sweep would."""
    spec = SweepSpec(task, grid={"replicate": [0]}, fixed=params)
    (point,) = spec.points()
    spec.task.check({k: v for k, v in point.params.items() if k != "replicate"})
    row = run_point(point, spec.task)
    if row["status"] != "ok":
        raise AssertionError(f"a checked read point failed: {row['error']}")
    return row


def _stanford_read(ea, g_min, g_max, v):
    dev = StanfordPKU(ea=ea, g_min=g_min, g_max=g_max)
    xb = Crossbar(3, 2, device=dev, backend="fast")
    xb.set_state(np.full((3, 2), (g_min + g_max) / 2))
    return xb.read(v)


CALLS = [
    PublicCall("Crossbar", lambda **k: Crossbar(**k), dict(rows=3, cols=2, cell="0T1R", r_row=1.0, r_col=1.0,
                                                           r_source=0.0, read_voltage=0.2, backend="fast")),
    PublicCall("CrossbarParams", lambda **k: CrossbarParams(**k), dict(rows=3, cols=2, cell="1T1R", r_row=1.0,
                                                                       r_col=1.0, r_source=5.0)),
    PublicCall("NmosSelector", lambda **k: NmosSelector(**k), dict(w=2e-6, l=1e-6, v_gate=5.0,
                                                                   card_path=NmosSelector().card_path)),
    PublicCall("1T1R fast read with a selector", lambda w, v_gate, v: _read_1t1r(w, v_gate, v),
               dict(w=2e-6, v_gate=5.0, v=np.full(3, 0.1))),
    PublicCall("TIA", lambda **k: TIA(**k), dict(r_f=1e4, c_f=0.0, gain=1e3, gbw=1e8, v_out_max=1.0, offset=0.0,
                                                 noise=0.0, energy_per_read=0.0, seed=0)),
    PublicCall("read through a TIA (fast)", lambda r_f, gain, v_out_max, v: _read_tia(r_f, gain, v_out_max, v),
               dict(r_f=1e4, gain=1e3, v_out_max=1.0, v=np.full(3, 0.1))),
    PublicCall("ADC", lambda **k: ADC(**k), dict(bits=6, full_scale=1.0, offset=0.0, gain_error=0.0, dnl=0.1,
                                                 inl=0.2, noise=0.0, seed=0, energy_per_conversion=0.0)),
    PublicCall("ADC.convert", lambda v, full_scale: ADC(bits=4, dnl=0.1).convert(v, full_scale=full_scale),
               dict(v=np.linspace(-1, 1, 6).reshape(3, 2), full_scale=1.0)),
    PublicCall("ADC.to_volts", lambda codes, full_scale: ADC(bits=4).to_volts(codes, full_scale=full_scale),
               dict(codes=np.array([[0, 15]]), full_scale=1.0)),
    PublicCall("ADC.calibrate", lambda v, margin: ADC(bits=4, full_scale="calibrate").calibrate(v, margin=margin),
               dict(v=np.ones((3, 2)), margin=1.2)),
    PublicCall("measure_dnl_inl", lambda t, full_scale: measure_dnl_inl(t, full_scale=full_scale),
               dict(t=ADC(bits=3).thresholds(2), full_scale=None)),
    PublicCall("DAC", lambda bits, v_max, unsigned, x: DAC(bits=bits, v_max=v_max, unsigned=unsigned).encode(x),
               dict(bits=4, v_max=0.2, unsigned=False, x=np.array([0.5, -0.5]))),
    PublicCall("Variability", lambda **k: Variability(**k), dict(d2d={"alpha_set": 0.1}, c2c=0.1, stuck_on=0.01,
                                                                 stuck_off=0.01, read_noise=0.01, levels=16, relaxation=0.05,
                                                                 seed=1)),
    PublicCall("Crossbar with variability", lambda levels, c2c, read_noise: memristor_array(
        variability=Variability(levels=levels, c2c=c2c, read_noise=read_noise)).read(np.full(3, 0.1)),
               dict(levels=16, c2c=0.1, read_noise=0.1)),
    PublicCall("PulseTiming", lambda **k: PulseTiming(**k), dict(width=50e-9, rise=2e-9, fall=2e-9, gap=10e-9)),
    PublicCall("WritePulses", lambda **k: WritePulses(**k), dict(set_amplitude=1.5, reset_amplitude=-1.5,
                                                                 v_gate_set=None, v_gate_reset=None, scheme="V/2")),
    PublicCall("WritePulses.schedule", lambda shape, cell, counts, scale: WritePulses().schedule(
        shape, cell, counts, scale), dict(shape=(3, 2), cell="0T1R", counts=np.array([[1, 0], [0, -1], [2, 0]]),
                                          scale=None), extra={"counts": st.just(np.full((3, 2), 10**7))}),
    PublicCall("row_slot", lambda **k: row_slot(**k), dict(shape=(3, 2), cell="0T1R", row=1, active=[True, False],
                                                           amplitude=1.5, scheme="V/3", v_gate=None, scale=None)),
    PublicCall("cell_slot", lambda **k: cell_slot(**k), dict(shape=(3, 2), cell="1T1R", row=0, col=1, amplitude=2.0,
                                                             scheme="V/2", v_gate=1.8)),
    PublicCall("row_update", lambda **k: row_update(**k), dict(shape=(3, 2), cell="0T1R", row=2, counts=[1, -2],
                                                               set_amplitude=1.5, reset_amplitude=-1.5)),
    PublicCall("array_update", lambda **k: array_update(**k), dict(shape=(3, 2), cell="0T1R", counts=np.ones((3, 2), int),
                                                                   set_amplitude=1.5, reset_amplitude=-1.5, scale=None)),
    PublicCall("outer_product", lambda **k: outer_product(**k), dict(
        shape=(3, 2), cell="0T1R", x=[0.5, -0.2, 0.0], delta=[0.3, -1.0], set_amplitude=1.5, reset_amplitude=-1.5,
        n_slots=4, rng=np.random.default_rng(0))),
    PublicCall("PulseSchedule.from_slots", lambda slots, timing: PulseSchedule.from_slots(slots, timing), dict(
        slots=[cell_slot((3, 2), "0T1R", 0, 0, 1.5)], timing=PulseTiming())),
    PublicCall("Crossbar.apply_pulses", _apply, dict(schedule=schedule(), backend="fast", max_step=None,
                                                     measure_energy=False),
               extra={"max_step": st.sampled_from([1e-300, 1e-20, 1e-13, 1e-10, 1.0])}),
    PublicCall("Crossbar.set_conductance", lambda g: linear_array().set_conductance(g), dict(g=G)),
    PublicCall("Crossbar.set_state", lambda s: memristor_array().set_state(s), dict(s=np.full((3, 2), 5e-6))),
    PublicCall("Crossbar.read", _read, dict(v=np.full(3, 0.1), backend="fast", transpose=False, quantizer="python"),
               extra={"backend": st.sampled_from(["fast", "ideal", "spice", "no-such"])}),
    PublicCall("Crossbar.solve", lambda v, backend, transpose: linear_array().solve(v, backend=backend,
                                                                                   transpose=transpose),
               dict(v=np.full(3, 0.1), backend="ideal", transpose=False)),
    PublicCall("Crossbar.read_cell", lambda row, col, v_read, scheme: linear_array().read_cell(row, col, v_read, scheme),
               dict(row=1, col=1, v_read=0.2, scheme="V/3")),
    PublicCall("Crossbar.calibrate_adc", lambda v, margin: linear_array(
        tia=TIA(r_f=1e4), adc=ADC(bits=4, full_scale="calibrate")).calibrate_adc(v, margin=margin),
               dict(v=np.full((2, 3), 0.1), margin=1.1)),
    PublicCall("Crossbar.load_state_dict", lambda state: memristor_array().load_state_dict(state),
               dict(state=memristor_array().state_dict())),
    PublicCall("read_dac", lambda x, dac: read_dac(periphery_array(), x, dac), dict(
        x=np.array([0.5, 0.0, -0.5]), dac=DAC(bits=4, v_max=0.2))),
    PublicCall("read_bit_serial", lambda x, bits, v_read: read_bit_serial(periphery_array(), x, bits, v_read),
               dict(x=np.array([3, 0, 1]), bits=2, v_read=0.1)),
    PublicCall("read_pwm", lambda x, n_slots, v_read: read_pwm(periphery_array(), x, n_slots, v_read),
               dict(x=np.array([0.5, 0.0, 1.0]), n_slots=4, v_read=0.1)),
    PublicCall("bit_serial", lambda x, bits, v_read: bit_serial(x, bits, v_read), dict(x=np.array([[3, 1]]), bits=2,
                                                                                      v_read=0.1)),
    PublicCall("shift_add", lambda y: shift_add(y), dict(y=np.ones((2, 1, 3)))),
    PublicCall("split_sign", lambda x: split_sign(x), dict(x=np.array([-3, 2]))),
    PublicCall("pwm", lambda x, n_slots, v_read: pwm(x, n_slots, v_read), dict(x=np.array([[0.5, 1.0]]), n_slots=4,
                                                                              v_read=0.1)),
    PublicCall("read_signed", lambda x, subtraction, transpose, full_scale: read_signed(
        periphery_array(), x, subtraction=subtraction, transpose=transpose, full_scale=full_scale),
               dict(x=np.full(3, 0.1), subtraction="analog", transpose=False, full_scale=0.5)),
    PublicCall("read_cost", lambda v, t_read, t_adc, dac_energy, macs: read_cost(
        periphery_array(), v, t_read=t_read, t_adc=t_adc, dac_energy=dac_energy, macs=macs),
               dict(v=np.full(3, 0.1), t_read=50e-9, t_adc=0.0, dac_energy=0.0, macs=None)),
    PublicCall("DifferentialPairs", lambda g_min, g_max, w, w_max: DifferentialPairs(g_min, g_max).conductances(
        w, w_max), dict(g_min=1e-6, g_max=2e-5, w=np.array([[0.5, -1.0]]), w_max=1.0)),
    PublicCall("write_verify", lambda target, tolerance, max_pulses, v_read, backoff, progress: write_verify(
        memristor_array("1T1R"), target, WritePulses.from_conditions(
            spicelim.devices.YAO2020_PROGRAMMING), tolerance, max_pulses=max_pulses, v_read=v_read, backoff=backoff,
        progress=progress), dict(target=np.full((3, 2), 6e-6), tolerance=0.5e-6, max_pulses=3, v_read=0.2,
                                 backoff=1.0, progress=False)),
    PublicCall("program_open_loop", lambda target, tolerance, max_pulses: program_open_loop(
        memristor_array(), target, WritePulses(), tolerance, max_pulses=max_pulses),
               dict(target=np.full((3, 2), 6e-6), tolerance=0.5e-6, max_pulses=3)),
    PublicCall("VTEAM", lambda **k: VTEAM(**k), dict(r_on=1e3, r_off=1e5, k_on=-2e-5, k_off=2e-5, v_on=-0.3,
                                                     v_off=0.3, iv="exponential")),
    PublicCall("Yakopcic", lambda **k: Yakopcic(**k), dict(a1=0.17, a2=0.17, b=0.05, v_p=0.16, v_n=0.15)),
    PublicCall("StanfordPKU", lambda ea, g_min, g_max, v: _stanford_read(ea, g_min, g_max, v),
               dict(ea=0.6, g_min=0.2e-9, g_max=1.7e-9, v=np.full(3, 0.05)),
               extra={"ea": st.sampled_from([8.0, 3.0, 1e-3])}),
    PublicCall("SoftBoundsRRAM", lambda **k: SoftBoundsRRAM(**k), dict(g_min=1e-6, g_max=2e-5, alpha_set=0.05,
                                                                       alpha_reset=0.05)),
    PublicCall("simulate (fast)", lambda t, v, state0: simulate(DEV, t, v, state0, backend="fast", n_points=50),
               dict(t=np.array([0.0, 1e-7, 2e-7]), v=np.array([0.0, 1.5, 0.0]), state0=8e-6)),
    PublicCall("SpiceBackend", lambda **k: SpiceBackend(**k), dict(timeout_s=60.0, run_dir=RUNS, keep_netlists=False,
                                                                   max_batch=16, workers=2)),
    PublicCall("LineBias", lambda **k: LineBias(**k), dict(row_v=np.zeros((1, 3)), col_v=np.zeros((1, 2)),
                                                           row_r=np.zeros(3), col_r=np.zeros(2),
                                                           row_float=np.zeros(3, bool), col_float=np.zeros(2, bool))),
    PublicCall("format_read_netlist", _netlist, dict(title="a title", r_row=1.0, v=np.full((1, 3), 0.1),
                                                     save_rows=False, save_nodes=False)),
    PublicCall("safe_name", lambda name: safe_name(name), dict(name="cell_a")),
    PublicCall("safe_text", lambda text: safe_text(text), dict(text="a comment")),
    PublicCall("agreement", lambda values, reference, scale: agreement(values, reference, scale=scale),
               dict(values=np.ones(3), reference=np.full(3, 2.0), scale=None)),
    PublicCall("save_state", lambda state: spicelim.save_state(RUNS / "state.npz", state), dict(state={"a": np.ones(2)})),
    PublicCall("Crossbar.read_codes", lambda v, transpose, quantizer: periphery_array().read_codes(
        v, transpose=transpose, quantizer=quantizer), dict(v=np.full((2, 3), 0.1), transpose=False, quantizer="python")),
    PublicCall("Crossbar.read_tia_output", lambda v, transpose: periphery_array().read_tia_output(v, transpose=transpose),
               dict(v=np.full(2, 0.1), transpose=True)),
    PublicCall("ADC.thresholds", lambda n_columns, full_scale: ADC(bits=3).thresholds(n_columns, full_scale),
               dict(n_columns=2, full_scale=0.5)),
    PublicCall("DifferentialPairs.weights", lambda g, w_max: DifferentialPairs(1e-6, 2e-5).weights(g, w_max),
               dict(g=np.full((2, 4), 1e-5), w_max=1.0)),
    PublicCall("compare_backends", lambda candidate, reference, scale: spicelim.compare_backends(
        lambda b: linear_array().read(np.full(3, 0.1), backend=b), candidate=candidate, reference=reference,
        scale=scale), dict(candidate="ideal", reference="fast", scale=None)),
    PublicCall("Backends", lambda **k: spicelim.Backends(**k).get("fast"), dict(fast=spicelim.create_backend("fast"))),
    PublicCall("load_state", lambda path: spicelim.load_state(path), dict(path=RUNS / "missing.npz")),
    PublicCall("measure_conductance", lambda v_read: spicelim.programming.measure_conductance(memristor_array(), v_read),
               dict(v_read=0.2)),
    PublicCall("nominal_pulse_response", lambda n_pulses, polarity: spicelim.programming.nominal_pulse_response(
        memristor_array(), WritePulses(), n_pulses, polarity), dict(n_pulses=2, polarity=1)),
    PublicCall("half_select_disturb", lambda **k: half_select_disturb(DEV, **k), dict(
        shape=(2, 2), amplitudes=[1.6], n_pulses=1, schemes=("V/3",), backend="fast", r_wire=1.0,
        initial_fraction=0.5, max_step=None, progress=False)),
    PublicCall("run_adc_study", lambda **k: run_adc_study(RUNS / "adc", **k), dict(
        bits=(2,), r_wires=(1.0,), sizes=(2,), batch=2, check_max_size=0, seed=0, margin=1.2, tia_full_scale=1.0,
        tia_options=None, adc_options={"dnl": 0.1}, progress=False)),
    PublicCall("run_read_study", lambda **k: run_read_study(RUNS / "read", reference="fast", **k), dict(
        map_size=2, sizes=(2,), r_wire=1.0, batch=2, seed=0, model="ideal")),
    PublicCall("TileSpec", lambda **k: TileSpec(**k), dict(max_rows=8, max_cols=4, cell="1T1R", r_wire=1.0,
                                                           v_read=0.2, w_max=1.0, adc_bits=None, subtraction="digital")),
    PublicCall("AnalogLinear", lambda n_in, n_out, bias, seed, w, x: _layer(n_in, n_out, bias, seed, w, x),
               dict(n_in=3, n_out=2, bias=True, seed=0, w=np.full((3, 2), 0.5), x=np.full((2, 3), 0.5))),
    PublicCall("AnalogLinear.backward", lambda d: _layer(3, 2, True, 0, np.full((3, 2), 0.5), None).backward(d),
               dict(d=np.ones((2, 2)))),
    PublicCall("make_dataset", lambda **k: make_dataset("fuzz", **k), dict(
        images=np.arange(40).reshape(10, 4) % 7, labels=np.repeat([0, 1], 5), image_shape=(2, 2), test_fraction=0.4,
        seed=0)),
    PublicCall("Dataset.subset", lambda fraction, seed: load_digits().subset(fraction, seed),
               dict(fraction=0.1, seed=0)),
    PublicCall("read_idx", lambda path: read_idx(path), dict(path=RUNS / "missing.idx")),
    PublicCall("state_for_conductance", lambda g, v_read: DEV.state_for_conductance(g, v_read),
               dict(g=np.full(3, 5e-6), v_read=0.2)),
    PublicCall("fast-slots apply_pulses", lambda schedule: _apply(schedule, "fast-slots", None, True),
               dict(schedule=schedule())),
    PublicCall("register_backend", lambda name, factory: spicelim.register_backend(name, factory, replace=True),
               dict(name="fuzzed", factory=spicelim.create_backend("fast").__class__)),
    PublicCall("AnalogLinear.pulse_pairs", lambda counts: _slot_layer().pulse_pairs(counts),
               dict(counts=np.array([[1, -1], [0, 2], [0, 0], [-1, 0]]))),
    PublicCall("AnalogLinear.coincidence_update", lambda x, u, n_slots, rng: _slot_layer().coincidence_update(
        x, u, n_slots, rng), dict(x=np.full((2, 4), 0.5), u=np.array([[0.5, -0.5], [0.2, 0.0]]), n_slots=3,
                                  rng=np.random.default_rng(0))),
    PublicCall("AnalogLinear.read_rows", lambda rows: _slot_layer().read_rows(rows), dict(rows=[0, 3])),
    PublicCall("AnalogLinear.program_weights", lambda w, b, max_pulses, compensate: _slot_layer().program_weights(
        w, b, max_pulses=max_pulses, compensate=compensate), dict(w=np.full((3, 2), 0.2), b=np.zeros(2),
                                                                  max_pulses=3, compensate=True)),
    *[PublicCall(f"{rule} rule step", lambda lr, x, d, rule=rule: _rule_step(rule, lr, x, d), dict(
        lr=0.5, x=np.full((2, 3), 0.5), d=np.array([[0.1, -0.2], [0.0, 0.3]]))) for rule in sorted(RULES)],
    PublicCall("Trainer.run", _train, dict(epochs=1, batch_size=3, seed=0, run_dir=None),
               extra={"run_dir": st.sampled_from([RUNS / "train", RUNS / "missing" / "train"])}),
    PublicCall("RunConfig.from_dict", lambda raw: RunConfig.from_dict(raw), dict(raw=TINY_RUN),
               extra={"raw": st.fixed_dictionaries({"training": st.fixed_dictionaries({"lr": HOSTILE})})}),
    PublicCall("SweepSpec", lambda **k: SweepSpec(**k).points(), dict(
        task="read", grid={"rows": [2, 3], "r_wire": [1.0]}, random={"v_read": {"log": (0.1, 0.2)}}, samples=2,
        fixed={"cols": 2}, seed=0, name="fuzz"), extra={
            "grid": st.dictionaries(st.sampled_from(["rows", "r_wire", "bogus"]), HOSTILE, max_size=2),
            "random": st.dictionaries(st.sampled_from(["v_read", "r_wire"]), HOSTILE, max_size=2)}),
    PublicCall("SweepTask", lambda **k: SweepTask(**k), dict(name="t", run=lambda p, s, b: {}, defaults={"x": 1},
                                                             check=None, backend_parameter=None, version=1)),
    PublicCall("run_point (read task)", lambda **k: _sweep_point("read", cols=2, tia_r_f=1e4, batch=2,
                                                                  reference="ideal", **k),
               dict(rows=3, r_wire=1.0, adc_bits=4, backend="fast")),
    PublicCall("run_point (validation task)", lambda **k: _sweep_point(validation_task(), **k), dict(
        size=3, r_wire=1.0, on_off_ratio=10.0, hrs_fraction=0.5, reference="fast", batch=2)),
    PublicCall("load_results", lambda path: load_results(path), dict(path=RUNS / "no-sweep")),
    PublicCall("evaluate_on_arrays", _evaluate, dict(x=np.full((3, 3), 0.5), y=np.array([0, 1, 1]), batch=2,
                                                     backend="fast")),
    PublicCall("series_path", lambda params, g, v: series_path(params, g, v), dict(
        params=CrossbarParams(3, 2, "1T1R", r_row=1.0, r_col=1.0), g=np.full((3, 2), 1e-5), v=np.full(3, 0.1))),
    PublicCall("first_order", lambda params, g, v: first_order(params, g, v), dict(
        params=CrossbarParams(3, 2, r_row=1.0, r_col=1.0, r_source=5.0), g=np.full((3, 2), 1e-5),
        v=np.full((2, 3), 0.1))),
    PublicCall("ConvNetSpec", lambda **k: ConvNetSpec(**k).n_features, dict(image=(28, 28), stages=((8, 3, 2),),
                                                                            classes=10, activation="relu")),
    PublicCall("DigitalConv2d.forward", lambda channels, kernels, kernel, images: DigitalConv2d(
        channels, kernels, kernel).forward(images), dict(channels=1, kernels=2, kernel=2, images=np.ones((1, 1, 3, 3)))),
    PublicCall("AnalogConv2d.forward", _analog_conv, dict(kernel=3, groups=2, group=1, images=np.full((1, 1, 4, 4), 0.5),
                                                          input_bits=8)),
    PublicCall("max_pool", lambda x, p: max_pool(x, p)[0], dict(x=np.ones((1, 1, 5, 5)), p=3)),
    PublicCall("ConvNetwork.predict", lambda x, group: ConvNetwork.software(TINY_CNN).predict(x, group),
               dict(x=np.full((2, 36), 0.5), group=0)),
    PublicCall("train_software (CNN)", lambda x, y, epochs, lr, batch_size, seed: train_software(
        ConvNetwork.software(TINY_CNN), x, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
        progress=False)[-1]["loss"], dict(x=np.full((4, 6, 6), 0.5), y=np.array([0, 1, 0, 1]), epochs=1, lr=0.05,
                                         batch_size=2, seed=0)),
    PublicCall("Yao2020Config.from_dict", lambda raw: Yao2020Config.from_dict(raw).fingerprint(),
               dict(raw={"seed": 3, "arrays": {"r_wire": 2.0, "adc_bits": 6}, "system": {"groups": 2}})),
    PublicCall("with_setting", lambda raw, key, value: Yao2020Config.from_dict(with_setting(raw, key, value)),
               dict(raw={}, key="arrays.d2d", value=0.2)),
    PublicCall("run_experiment", _in_runs(lambda cfg, run_dir, progress: run_experiment(
        cfg, run_dir=run_dir, progress=progress)["trained_accuracy"]),
               dict(cfg=RunConfig.from_dict(TINY_RUN), run_dir=None, progress=False)),
]

