"""Programming transients without SPICE: quasi-static nonlinear nodal solves plus state integration.

The array has no capacitances, so at every instant its node voltages follow from the line-source
voltages and the device states alone (a nonlinear DC problem: memristor I-V curves, level-1
selector transistors, linear wires and drivers). The transient is stepped on the schedule's
breakpoints, each interval cut into steps no longer than `max_step` (edges into at least 4):
  1. at the middle of the step, solve the node voltages by Newton's method (sparse LU of the
     nodal Jacobian, warm-started from the previous step, steps limited to 0.5 V; the last
     factorisation is reused as long as its chord iterations converge fast);
  2. advance every device state over the step with its voltage held (classical RK4), then clip it
     to the model's state bounds. A step that would move some state by more than 2 % of its range
     (a runaway SET) is shortened and the network solved again.
Steps where the sources span less than the device's read limit (its smallest switching
threshold) are skipped: no device can see more than that span, so nothing moves there.

This is a behavioural model of the transient: the fixed voltage over each step and the single
network solve per step are its approximations; `scripts/bench_update.py` and the tests measure
its agreement with ngspice.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import ConvergenceError
from ..network import network_of
from ..params import CrossbarParams

GMIN = 1e-12  # siemens from every node to ground, as in SPICE
_DV_LIMIT = 0.5  # largest Newton voltage step, volts
_V_TOL = 1e-6  # volts, as SPICE's vntol
_MAX_NEWTON = 60
_DIFF_H = 1e-6  # volts, central difference of the device I-V
_RAMP_STEPS = 4  # at least this many steps on an edge, where the voltage crosses the thresholds
_MAX_STATE_STEP = 0.02  # largest state change in one step, as a fraction of the state range
_MIN_STEP_FRACTION = 1e-6  # shortest step, as a fraction of the planned step


def level1_nmos(vd, vg, vs, beta, vto, lam):
    """Level-1 (Shichman-Hodges) drain current and its derivatives, symmetric in drain and source.

    Returns (i, di/dvd, di/dvs): current into the drain, amperes; siemens.
    """
    swap = vd < vs
    d = np.where(swap, vs, vd)
    s = np.where(swap, vd, vs)
    vov = vg - s - vto
    vds = d - s
    on = vov > 0
    sat = vds >= vov
    clm = 1 + lam * vds
    i_lin = beta * (vov - vds / 2) * vds * clm
    i_sat = beta / 2 * vov**2 * clm
    di_dvov = np.where(sat, beta * vov * clm, beta * vds * clm)
    di_dvds = np.where(sat, beta / 2 * vov**2 * lam, beta * (vov - vds) * clm + beta * (vov - vds / 2) * vds * lam)
    i = np.where(on, np.where(sat, i_sat, i_lin), 0.0)
    g_d = np.where(on, di_dvds, 0.0)  # d i / d(d)
    g_s = np.where(on, -di_dvov - di_dvds, 0.0)  # d i / d(s)
    # swapped: the current into the real drain is minus the current into the swapped drain
    return (np.where(swap, -i, i), np.where(swap, -g_s, g_d), np.where(swap, -g_d, g_s))


class PulseSolver:
    """Nonlinear nodal model of one array for programming transients (fixed device parameters)."""

    def __init__(self, params: CrossbarParams, device):
        net = network_of(params)
        self.params, self.net, self.device = params, net, device
        m, n = params.shape
        size = net.n_nodes
        a_list, b_list, w_list = [], [], []
        for _, a, b, r in net.wire_segments():
            a_list.append(a.ravel())
            b_list.append(b.ravel())
            w_list.append(np.full(a.size, 1.0 / r))
        lin = sp.csr_matrix((size, size))
        if a_list:
            a, b, w = (np.concatenate(x) for x in (a_list, b_list, w_list))
            lin = sp.coo_matrix((np.concatenate([w, w, -w, -w]), (np.concatenate([a, b, a, b]),
                                                                  np.concatenate([a, b, b, a]))),
                                shape=(size, size)).tocsr()
        self.r_source = params.r_source
        ends = np.concatenate([net.row_end, net.col_end])
        self.ends = ends
        diag = np.full(size, GMIN)
        if self.r_source > 0:
            diag[ends] += 1.0 / self.r_source
            self.fixed = np.zeros(size, dtype=bool)
        else:
            self.fixed = np.zeros(size, dtype=bool)
            self.fixed[ends] = True
        self.linear = (lin + sp.diags(diag)).tocsr()
        # Jacobian of the linear part with every fixed node's row replaced by the identity.
        keep = sp.diags((~self.fixed).astype(float))
        self.linear_jac = (keep @ self.linear + sp.diags(self.fixed.astype(float))).tocsr()
        self.dev_a = net.row_node.ravel()
        self.dev_b = net.device_low_node.ravel()
        # Jacobian pattern of the nonlinear elements: devices, then selectors (drain, source).
        r_idx = [self.dev_a, self.dev_b, self.dev_a, self.dev_b]
        c_idx = [self.dev_a, self.dev_b, self.dev_b, self.dev_a]
        if params.has_selector:
            sel = params.selector
            card = sel.card
            l_eff = sel.l - 2 * card.get("ld", 0.0)
            self.beta = card.get("kp", 2e-5) * sel.w / l_eff
            self.vto, self.lam = card.get("vto", 0.0), card.get("lambda", 0.0)
            self.sel_d = net.inner_node.ravel()
            self.sel_s = net.col_node.ravel()
            self.sel_row = np.repeat(np.arange(m), n)
            r_idx += [self.sel_d, self.sel_d, self.sel_s, self.sel_s]
            c_idx += [self.sel_d, self.sel_s, self.sel_d, self.sel_s]
        self.nl_rows = np.concatenate(r_idx)
        self.nl_cols = np.concatenate(c_idx)
        self.nl_free = ~self.fixed[self.nl_rows]  # stamps on fixed rows are dropped
        self.size = size
        self.volts = np.zeros(size)
        self._lu = None  # factorised Jacobian reused by chord iterations

    def _source_vector(self, row_src: np.ndarray, col_src: np.ndarray) -> np.ndarray:
        src = np.zeros(self.size)
        src[self.net.row_end] = row_src
        src[self.net.col_end] = col_src
        return src

    def _network_current(self, v, gate, state, jacobian: bool):
        """Currents leaving every node into the array (wires, gmin, devices, selectors); Jacobian stamps if asked."""
        dev = self.device
        f = self.linear @ v
        vd = (v[self.dev_a] - v[self.dev_b]).reshape(state.shape)
        i_dev = dev.current(vd, state).ravel()
        f += np.bincount(self.dev_a, i_dev, self.size) - np.bincount(self.dev_b, i_dev, self.size)
        data = []
        if jacobian:
            g_dev = ((dev.current(vd + _DIFF_H, state) - dev.current(vd - _DIFF_H, state)) / (2 * _DIFF_H)).ravel()
            data = [g_dev, g_dev, -g_dev, -g_dev]
        if self.params.has_selector:
            i_m, g_d, g_s = level1_nmos(v[self.sel_d], gate[self.sel_row], v[self.sel_s], self.beta, self.vto, self.lam)
            f += np.bincount(self.sel_d, i_m, self.size) - np.bincount(self.sel_s, i_m, self.size)
            data += [g_d, g_s, -g_d, -g_s]
        return f, data

    def _residual(self, v, src, gate, state, jacobian: bool):
        """Currents leaving every node (zero on fixed rows) and, if asked, the Jacobian (CSC)."""
        f, data = self._network_current(v, gate, state, jacobian)
        if self.r_source > 0:
            f[self.ends] -= src[self.ends] / self.r_source
        f[self.fixed] = 0.0
        if not jacobian:
            return f, None
        values = np.concatenate(data) * self.nl_free
        jac = self.linear_jac + sp.csr_matrix((values, (self.nl_rows, self.nl_cols)), shape=(self.size, self.size))
        return f, jac.tocsc()

    def supplied_power(self, v, row_src, col_src, gate, state) -> float:
        """Power the line drivers deliver at node voltages v, watts: sum_k V_k I_k over the line ends."""
        src = self._source_vector(row_src, col_src)[self.ends]
        if self.r_source > 0:
            return float(np.sum(src * (src - v[self.ends]) / self.r_source))
        f, _ = self._network_current(v, gate, state, jacobian=False)
        return float(np.sum(src * f[self.ends]))

    def solve(self, row_src, col_src, gate, state) -> np.ndarray:
        """Node voltages (volts) with the given source voltages, word lines (M,) and device states (M, N).

        Chord iterations reuse the last factorised Jacobian while they converge fast; otherwise the
        Jacobian is rebuilt and refactorised (a full Newton step).
        """
        src = self._source_vector(row_src, col_src)
        v = self.volts.copy()
        v[self.fixed] = src[self.fixed]
        last = np.inf
        full = False  # once the chord iteration stalls, take full Newton steps for the rest of this solve
        for _ in range(_MAX_NEWTON):
            f, jac = self._residual(v, src, gate, state, jacobian=full or self._lu is None)
            if jac is not None:
                self._lu = spla.splu(jac, permc_spec="MMD_AT_PLUS_A")
            dv = np.clip(self._lu.solve(-f), -_DV_LIMIT, _DV_LIMIT)
            v += dv
            size = np.max(np.abs(dv), initial=0.0)
            slow = jac is None and size > 0.3 * last  # a slowly converging chord step says little about the error
            if size < _V_TOL and not slow:
                self.volts = v
                return v
            full = full or slow
            last = size
        raise ConvergenceError("the fast programming solve found no operating point (Newton's method did not"
                               f" converge in {_MAX_NEWTON} iterations)")

    def device_voltage(self, v: np.ndarray) -> np.ndarray:
        """(M, N) volts across each device."""
        return (v[self.dev_a] - v[self.dev_b]).reshape(self.params.shape)


def rk4_state(device, v_dev: np.ndarray, s: np.ndarray, dt: float, lo, hi) -> np.ndarray:
    """Advance the states s over dt with the device voltages held (classical RK4); clip to the state bounds."""
    k1 = device.state_rate(v_dev, s)
    if not np.any(k1):
        return s
    k2 = device.state_rate(v_dev, np.clip(s + dt / 2 * k1, lo, hi))
    k3 = device.state_rate(v_dev, np.clip(s + dt / 2 * k2, lo, hi))
    k4 = device.state_rate(v_dev, np.clip(s + dt * k3, lo, hi))
    return np.clip(s + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4), lo, hi)


def run_schedule(params: CrossbarParams, device, state: np.ndarray, schedule, max_step: float,
                 energy: bool = False, read_limit: float | None = None) -> tuple[np.ndarray, float | None]:
    """The array's device states (M, N) after `schedule`, starting from `state` (model units).

    Returns (states, energy): with energy=True also the energy the line drivers delivered, joules
    (every step is then solved, including those below the switching threshold); else None.
    `device` may carry (M, N)-shaped parameters (device-to-device spread); read_limit is then the
    smallest switching threshold over the cells, volts (default: device.read_limit). A step in which some
    state would move by more than `_MAX_STATE_STEP` of its range (a runaway SET) is cut shorter,
    and the network is solved again at the shorter step's middle.
    """
    solver = PulseSolver(params, device)
    m = params.rows
    lo, hi = device.state_bounds
    span = np.asarray(hi, dtype=float) - np.asarray(lo, dtype=float)
    limit = float(device.read_limit if read_limit is None else read_limit)
    s = np.array(state, dtype=float)
    t = schedule.t
    gate_zero = np.zeros(m)
    delivered = 0.0

    def solve_at(when: float, s: np.ndarray):
        """(device voltages or None below threshold, driver power in watts or None) at time `when`."""
        rows, cols, gates = schedule.interpolate(np.array([when]))
        gate = gates[0] if gates is not None else gate_zero
        below = max(rows.max(), cols.max(), 0.0) - min(rows.min(), cols.min(), 0.0) < limit
        if below and not energy:
            return None, None  # no device can see more than the span of the sources: nothing moves
        v = solver.solve(rows[0], cols[0], gate, s)
        power = solver.supplied_power(v, rows[0], cols[0], gate, s) if energy else None
        return (None if below else solver.device_voltage(v)), power

    for k in range(t.size - 1):
        ends = [schedule.row_v[k:k + 2], schedule.col_v[k:k + 2]]
        if schedule.gate_v is not None:
            ends.append(schedule.gate_v[k:k + 2])
        if not any(np.any(x) for x in ends[:2]):
            continue  # every line at 0 V: no current, no change
        ramp = any(np.any(x[0] != x[1]) for x in ends)
        steps = max(_RAMP_STEPS if ramp else 1, int(np.ceil((t[k + 1] - t[k]) / max_step - 1e-9)))
        h_max = (t[k + 1] - t[k]) / steps
        now, end = t[k], t[k + 1]
        while now < end - 1e-6 * h_max:
            h = min(h_max, end - now)
            v_dev, power = solve_at(now + h / 2, s)
            if v_dev is not None:
                fastest = np.max(np.abs(device.state_rate(v_dev, s)) / span)
                if fastest * h > _MAX_STATE_STEP:
                    h = max(_MAX_STATE_STEP / fastest, h_max * _MIN_STEP_FRACTION)
                    v_dev, power = solve_at(now + h / 2, s)
                if v_dev is not None:
                    s = rk4_state(device, v_dev, s, h, lo, hi)
            if power is not None:
                delivered += power * h
            now += h
    return s, (delivered if energy else None)
