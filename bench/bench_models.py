"""Timings of the SEIR family on this machine: `python bench/bench_models.py`."""

from __future__ import annotations

import time

import numpy as np

from epicenter.model import metapop as mp
from epicenter.model.age_structured import LayerSchedule, beta_for_r0
from epicenter.model.contacts import load_contacts
from epicenter.model.metapop_data import load_li2020
from epicenter.model.seir import SEIRParams, initial_state, simulate
from epicenter.model.stochastic import simulate_stochastic


def timed(label: str, fn, repeat: int = 3) -> None:
    """Best of ``repeat`` runs: wall time and CPU time of this process (CPU time is the
    better figure on a shared machine)."""
    wall, cpu = min(_once(fn) for _ in range(repeat))
    print(f"| {label} | {wall * 1000:,.1f} | {cpu * 1000:,.1f} |")


def _once(fn) -> tuple[float, float]:
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    print("| run | wall ms | CPU ms |\n|---|---|---|")
    pop1 = np.array([1e6])
    p = SEIRParams(beta=0.5)
    timed("SEIR ODE, 1 group, 180 days, RK4 8 steps/day",
          lambda: simulate(p, pop1, initial_state(pop1, exposed=10), 180))
    timed("SEIR ODE, 1 group, 60 days, RK4 1 step/day (one likelihood)",
          lambda: simulate(p, pop1, initial_state(pop1, exposed=10), 60, steps_per_day=1))
    d = load_contacts("China_Hubei", "mistry_2021", band_width=5)
    base = SEIRParams(beta=0.0)
    pa = base.with_(beta=beta_for_r0(2.5, base, d.total))
    sched = LayerSchedule(d, [])
    x0 = np.rint(initial_state(d.population, exposed=100))
    timed("age SEIR ODE, 17 groups, 200 days",
          lambda: simulate(pa, d.population, x0, 200, schedule=sched))
    timed("age SEIR binomial chain, 17 groups, 200 days, 100 members",
          lambda: simulate_stochastic(pa, np.rint(d.population), x0, 200, members=100,
                                      schedule=sched), repeat=1)
    li = load_li2020()
    w = li.index("Wuhan")
    xm = mp.seed_state(li.population, w, 500, 500, li.mobility(0))
    timed("metapop ODE, 375 areas, 14 days, RK4 2 steps/day (one likelihood)",
          lambda: mp.simulate(mp.MetapopParams(), xm, 14, li.mobility, steps_per_day=2))
    timed("metapop stochastic, 375 areas, 60 days, 40 members",
          lambda: mp.simulate_stochastic(mp.MetapopParams(), xm, 60, li.mobility, members=40),
          repeat=1)


if __name__ == "__main__":
    main()
