"""An independent reference for small crossbars: a dense nodal solve written from the circuit description.

It does not use spicelim's network numbering or netlist writer. Nodes are keyed by tuples, every
element is stamped by hand, and 1T1R selectors use the level-1 (Shichman-Hodges) drain current
solved with scipy's root finder, so it also checks ngspice's handling of the transistor.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import root

KP, VTO, LAMBDA = 120e-6, 0.8, 0.01  # models/nmos_1t1r.lib


def level1_id(vd, vg, vs, w, l):
    """Drain current (into the drain) of a level-1 NMOS, symmetric in drain and source."""
    if vd < vs:
        return -level1_id(vs, vg, vd, w, l)
    vgs, vds = vg - vs, vd - vs
    beta = KP * w / l
    vov = vgs - VTO
    if vov <= 0:
        return 0.0
    if vds < vov:
        return beta * (vov - vds / 2) * vds * (1 + LAMBDA * vds)
    return beta / 2 * vov**2 * (1 + LAMBDA * vds)


def solve_crossbar(g, v_rows, r_row, r_col, r_source, cell="0T1R", w=2e-6, l=1e-6, v_gate=5.0,
                   transpose=False):
    """Return the sense currents of one read: columns (forward) or rows (transpose=True).

    Forward: row i driven by v_rows[i] through r_source at its left end, column ends held at 0 V.
    Transposed: `v_rows` holds the column voltages, applied through r_source at the column ends;
    row ends held at 0 V. Wires must have r_row, r_col > 0.
    """
    m, n = g.shape
    nodes = {}

    def node(*key):
        return nodes.setdefault(key, len(nodes))

    resistors = []  # (a, b, conductance); b may be ("fixed", volts)
    for i in range(m):
        resistors.append((node("D", i), node("R", i, 0), 1 / r_row))
        for j in range(1, n):
            resistors.append((node("R", i, j - 1), node("R", i, j), 1 / r_row))
    for j in range(n):
        for i in range(m - 1):
            resistors.append((node("C", i, j), node("C", i + 1, j), 1 / r_col))
        resistors.append((node("C", m - 1, j), node("S", j), 1 / r_col))
    mosfets = []
    for i in range(m):
        for j in range(n):
            if cell == "0T1R":
                resistors.append((node("R", i, j), node("C", i, j), g[i, j]))
            else:
                resistors.append((node("R", i, j), node("X", i, j), g[i, j]))
                mosfets.append((node("X", i, j), node("C", i, j)))
    fixed = {}  # node -> (volts, series conductance) ; sense ends ideal
    if not transpose:
        for i in range(m):
            fixed[node("D", i)] = (v_rows[i], 1 / r_source if r_source > 0 else None)
        for j in range(n):
            fixed[node("S", j)] = (0.0, None)
    else:
        for j in range(n):
            fixed[node("S", j)] = (v_rows[j], 1 / r_source if r_source > 0 else None)
        for i in range(m):
            fixed[node("D", i)] = (0.0, None)
    size = len(nodes)
    hard = {k: val for k, (val, gs) in fixed.items() if gs is None}

    def residual(x):
        vv = x.copy()
        for k, val in hard.items():
            vv[k] = val
        f = np.zeros(size)  # current leaving each node
        for a, b, gg in resistors:
            cur = gg * (vv[a] - vv[b])
            f[a] += cur
            f[b] -= cur
        for d, s in mosfets:
            i_d = level1_id(vv[d], v_gate, vv[s], w, l)
            f[d] += i_d
            f[s] -= i_d
        for k, (val, gs) in fixed.items():
            if gs is not None:
                f[k] += gs * (vv[k] - val)
        for k, val in hard.items():
            f[k] = x[k] - val
        return f

    x0 = np.zeros(size)
    sol = root(residual, x0, method="hybr", tol=1e-15)
    x = sol.x
    for k, val in hard.items():
        x[k] = val
    flows = np.zeros(size)  # current flowing into each node from the network elements
    for a, b, gg in resistors:
        cur = gg * (x[a] - x[b])
        flows[b] += cur
        flows[a] -= cur
    if not transpose:
        return np.array([flows[node("S", j)] for j in range(n)])
    return np.array([flows[node("D", i)] for i in range(m)])
