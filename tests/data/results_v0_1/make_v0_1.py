"""Fit every family with empathy_models 0.1.0 on tiny data and save (the fixtures of
tests/test_results_io.py::test_results_of_version_0_1_still_load).

Run from a checkout of commit 1083faa:  PYTHONPATH=<checkout> python make_v0_1.py OUT_DIR
"""

import sys, warnings
from pathlib import Path

warnings.simplefilter("ignore")
import numpy as np
import empathy_models as em
from empathy_models.models.contributions import simulate_contributions
from empathy_models.models.raters import simulate_raters
from empathy_models.models.form import simulate_form_data
from empathy_models.models.moderation import simulate_moderation_data
from empathy_models.models.meta import simulate_meta
from empathy_models.models.circuit import simulate_circuit

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
kw = dict(draws=20, tune=30, chains=1, seed=1, progressbar=False)
df, _ = simulate_contributions(6, 3, 4, seed=1)
em.fit(em.VariancePartition("alliance", levels=("therapist", "client")), df, **kw).save(
    out / "variance.nc"
)
em.fit(em.Contributions(predictor="alliance", outcome="outcome", noncentered=False), df, **kw).save(
    out / "contributions.nc"
)
r, _ = simulate_raters(6, 3, 3, seed=1)
em.fit(em.RaterPartition(measure="empathy"), r, **kw).save(out / "raters.nc")
f, _ = simulate_form_data("inverted_u", n_therapists=6, clients_per_therapist=3, seed=1)
em.fit(em.FunctionalForm("outcome", "empathy", parameterization="noncentered"), f, **kw).save(
    out / "form.nc"
)
m, _ = simulate_moderation_data(
    n_therapists=6, clients_per_therapist=4, sessions_per_client=4, seed=1
)
em.fit(em.ModeratedEffects(levels=("ERP", "MI"), groups=("therapist", "client")), m, **kw).save(
    out / "moderation.nc"
)
t, _ = simulate_meta(10, seed=1)
em.fit(em.MetaAnalysis(r="r", n="n", study="study", missing="drop"), t, **kw).save(out / "meta.nc")
c, _ = simulate_circuit(4, 2, 2, 8, seed=1)
em.fit(em.EmotionalCircuit(missing_affect="drop"), c, **kw).save(out / "circuit.nc")
print("ok")
