"""Does the SEIR calibration recover known parameters? Coverage over simulated data sets.

`python bench/calibration_coverage.py [replicates]`: simulates daily reported cases from the
SEIR model (R0 drawn in [1.5, 3], reporting 0.4, NB size 20, 45 days), fits each with
:func:`calibrate_seir` (rho fixed) and counts how often the 95% credible interval of R0
(hence of beta) contains the truth.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import numpy as np

from epicenter.model.age_structured import beta_for_r0
from epicenter.model.calibrate import CaseSeries, calibrate_seir
from epicenter.model.seir import SEIRParams, initial_state, simulate


def main(replicates: int = 10) -> None:
    rng = np.random.default_rng(2026)
    base = SEIRParams(beta=0.0, sigma=1 / 3, gamma=1 / 5, rho=0.4)
    one = np.ones((1, 1))
    pop = np.array([5e5])
    covered, widths, started = 0, [], time.perf_counter()
    for rep in range(replicates):
        r0 = rng.uniform(1.5, 3.0)
        p = base.with_(beta=beta_for_r0(r0, base, one))
        mu = simulate(p, pop, initial_state(pop, exposed=30), 45).reported[:, 0]
        y = rng.negative_binomial(20.0, 20.0 / (20.0 + mu))
        dates = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(45)]
        fit = calibrate_seir(CaseSeries(dates, y), 5e5, base, rho=0.4, iterations=3000,
                             mcmc_seed=rep)
        lo, mid, hi = np.quantile(fit.posterior.column("r0"), [0.025, 0.5, 0.975])
        covered += lo < r0 < hi
        widths.append(hi - lo)
        print(f"replicate {rep}: R0 {r0:.3f}  posterior {mid:.3f} [{lo:.3f}, {hi:.3f}]"
              f"  acceptance {fit.posterior.acceptance:.2f}")
    print(f"95% interval covered the true R0 in {covered}/{replicates}; mean width "
          f"{np.mean(widths):.3f}; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
