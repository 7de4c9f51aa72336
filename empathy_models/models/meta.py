"""Model 6: Bayesian meta-analysis with moderators (random-effects and multilevel).

    y_i ~ N(theta_i, v_i),  theta_i = mu + x_i'beta + u_study[i] + w_i,
    w_i ~ N(0, tau^2),  u_study ~ N(0, tau_study^2)  (multilevel form only)

Rows are *effects*, not sessions: the therapist/client roles are not used. Column names are
spec options. Three input forms:

* ``effect`` + ``variance``: any effect size with its sampling variance;
* ``r`` + ``n``: correlations, analysed as Fisher z = atanh(r) with variance 1 / (n - 3);
  pooled effects are back-transformed to r (``mu_r``, ``theta_new_r``);
* ``counts`` (four columns, the cells of a 2x2 table in metafor's order ``ai, bi, ci, di``:
  events and non-events in the treated/exposed group, then events and non-events in the
  control group) with ``measure="rr"`` (log risk ratio) or ``"or"`` (log odds ratio).
  **Continuity correction:** when a study has a zero cell, ``correction`` (default 0.5) is
  added to all four of its cells (metafor's ``add=1/2, to="only0"``); with
  ``correction=0`` a zero cell is a :class:`ZeroCellError`.

The random effects ``w_i`` (and ``u_study``) are integrated out analytically: the
random-effects likelihood is ``y_i ~ N(mu + x_i'beta, v_i + tau^2)``; in the multilevel form
the effects of one study are jointly normal with compound-symmetric covariance
``diag(v_i + tau^2) + tau_study^2 11'`` (log-density by the matrix determinant lemma and
Sherman-Morrison). The log-likelihood is per effect (random-effects) or per study
(multilevel), the natural unit for leave-one-study-out.

Priors live on a standardized scale: effects are divided by ``s``, the SD of the observed
effects (not centred, so 0 still means "no effect"); numeric moderators are standardized;
categorical moderators are treatment coded (0/1, not standardized).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc_extras.prior import Prior

from empathy_models.data.io import read_table
from empathy_models.data.roles import ID_ROLES, Roles
from empathy_models.data.validation import PreparedData
from empathy_models.errors import (
    ConfigError,
    DataError,
    DegeneratePredictorError,
    DroppedRowsWarning,
    EmptyDataError,
    MissingColumnError,
    MissingValueError,
    NonFiniteError,
    NonNumericError,
    TooFewGroupsError,
    option_hint,
)
from empathy_models.models.base import Built, ModelSpec, register
from empathy_models.models.priors import with_dims

LOG2PI = float(np.log(2 * np.pi))
#: Seed of the draws of a new study's effect added after sampling (same input, same output).
THETA_NEW_SEED = 20180601


# -- data errors of this family ------------------------------------------------------------
class NegativeVarianceError(DataError):
    """A sampling variance is zero or negative."""


class CorrelationRangeError(DataError):
    """A correlation lies outside (-1, 1)."""


class SampleSizeError(DataError):
    """A sample size is below 4 (Fisher z needs n - 3 > 0) or not an integer."""


class CountError(DataError):
    """2x2 counts are negative, not integers, or leave a group empty."""


class ZeroCellError(CountError):
    """A 2x2 table has a zero cell and no continuity correction was requested."""


class MissingModeratorError(MissingValueError):
    """A moderator is missing for some effects."""


def _no_roles() -> Roles:
    return Roles(**{r: None for r in ID_ROLES})


@register
@dataclass(frozen=True)
class MetaAnalysis(ModelSpec):
    """Random-effects or multilevel meta-analysis with meta-regression.

    Give exactly one input form: ``effect`` and ``variance``; ``r`` and ``n``; or ``counts``
    and ``measure``.

    Parameters
    ----------
    effect, variance
        Columns of effect sizes and their sampling variances (> 0).
    r, n
        Columns of correlations (in (-1, 1)) and sample sizes (integers >= 4).
    counts
        Four columns ``(ai, bi, ci, di)``: events and non-events in the treated group, events
        and non-events in the control group.
    measure : {"rr", "or"}
        ``"rr"`` (log risk ratio) or ``"or"`` (log odds ratio); only with ``counts``.
    correction
        Continuity correction added to all four cells of a table with a zero cell (default
        0.5); ``0`` makes a zero cell an error.
    study
        Column of study ids. When some study holds several effects the model is multilevel
        (``tau_study`` between studies, ``tau`` between effects within a study); otherwise
        the column only labels the effects. Leave-one-out leaves out whole studies.
    moderators
        Columns entering the meta-regression. Numeric columns give ``beta_<column>`` (per
        unit of the column); other columns are categorical, treatment coded against
        ``reference[column]`` (default: the first level in sorted order), and give
        ``beta_<column>`` with one entry per non-reference level (dim ``<column>_level``;
        shown as ``beta_<column>[level]`` in summaries).
    reference
        Reference level per categorical moderator, e.g. ``{"rater": "observer"}``.
    missing_outcome : {"error", "drop"}
        A missing value in an input column (effect, variance, r, n, counts) or the study
        column: ``"error"`` (default) or ``"drop"`` (rows dropped and counted in the
        results' metadata).
    missing_predictor : {"error", "drop"}
        A missing moderator value: ``"error"`` (default) or ``"drop"``.
    """

    family = "meta"

    effect: str | None = None
    variance: str | None = None
    r: str | None = None
    n: str | None = None
    counts: tuple[str, ...] | None = None
    measure: str | None = None
    correction: float = 0.5
    study: str | None = None
    moderators: tuple[str, ...] = ()
    reference: Mapping | None = field(default=None, compare=False)
    missing_outcome: str = "error"
    missing_predictor: str = "error"

    renamed_options = {"missing": lambda v: {"missing_outcome": v, "missing_predictor": v}}

    def __post_init__(self) -> None:
        object.__setattr__(self, "moderators", tuple(self.moderators))
        if self.counts is not None:
            object.__setattr__(self, "counts", tuple(self.counts))
        forms = {
            "effect": (self.effect, self.variance),
            "r": (self.r, self.n),
            "counts": (self.counts,),
        }
        given = [k for k, cols in forms.items() if any(c is not None for c in cols)]
        if len(given) != 1:
            raise ConfigError(
                "give exactly one input form: effect= and variance=, r= and n=, or counts= "
                f"and measure=; got {given or 'none'}"
            )
        form = given[0]
        if any(c is None for c in forms[form]):
            need = {"effect": "effect= and variance=", "r": "r= and n="}[form]
            raise ConfigError(f"the {form!r} input form needs both {need}")
        if form == "counts":
            if len(self.counts) != 4:
                raise ConfigError(
                    f"counts= needs four columns (ai, bi, ci, di), got {len(self.counts)}"
                )
            if self.measure not in ("rr", "or"):
                raise ConfigError(
                    f"with counts, measure must be 'rr' or 'or', got {self.measure!r}"
                )
        elif self.measure is not None:
            raise ConfigError("measure= applies to counts only")
        if not (self.correction >= 0 and np.isfinite(self.correction)):
            raise ConfigError(f"correction must be >= 0, got {self.correction}")
        for name in ("missing_outcome", "missing_predictor"):
            if getattr(self, name) not in ("error", "drop"):
                raise ConfigError(f"{name} must be 'error' or 'drop', got {getattr(self, name)!r}")
        for col in self.reference or {}:
            if col not in self.moderators:
                raise ConfigError(f"reference given for {col!r}, which is not a moderator")
        self.resolved_priors()

    # -- options ------------------------------------------------------------------------
    @property
    def form(self) -> str:
        """Input form: ``"effect"``, ``"r"`` or ``"counts"``."""
        if self.counts is not None:
            return "counts"
        return "r" if self.r is not None else "effect"

    @property
    def input_columns(self) -> tuple[str, ...]:
        return {
            "effect": (self.effect, self.variance),
            "r": (self.r, self.n),
            "counts": self.counts or (),
        }[self.form]

    @property
    def back_suffix(self) -> str | None:
        """Suffix of back-transformed quantities (``r``, ``rr``, ``or``) or ``None``."""
        return {"effect": None, "r": "r", "counts": self.measure}[self.form]

    def default_priors(self) -> dict[str, Prior]:
        """Defaults on the standardized scale (effects divided by their observed SD ``s``).

        ``mu`` Normal(0, 2): the pooled effect at the moderators' means (reference level for
        categorical ones), centred on no effect and wide (2 SDs of the observed effects);
        ``beta`` Normal(0, 1) per standardized numeric moderator or per dummy of a
        categorical one; ``tau`` and ``tau_study`` HalfNormal(1): the SD of the observed
        effects is roughly sqrt(tau^2 + typical v), so this keeps heterogeneity of the order
        of the observed spread and lets it be zero.
        """
        return {
            "mu": Prior("Normal", mu=0, sigma=2),
            "beta": Prior("Normal", mu=0, sigma=1),
            "tau": Prior("HalfNormal", sigma=1),
            "tau_study": Prior("HalfNormal", sigma=1),
        }

    # -- data ---------------------------------------------------------------------------
    def prepare(self, data, roles: Roles | None = None) -> PreparedData:
        """Validate the table of effects (``roles`` are ignored: rows are effects)."""
        df = read_table(data)
        n_input = len(df)
        if n_input == 0:
            raise EmptyDataError("the table of effects has no rows")
        inputs = list(self.input_columns)
        used = list(
            dict.fromkeys([*inputs, *self.moderators, *([self.study] if self.study else [])])
        )
        for col in used:
            if col not in df.columns:
                raise MissingColumnError(
                    f"column {col!r} not found in the data; columns are {list(df.columns)}",
                    role=self._role_of(col),
                    column=col,
                )
        df = df.loc[:, used].copy()
        dropped: dict[str, int] = {}
        for col in used:
            miss = df[col].isna()
            if not miss.any():
                continue
            role = self._role_of(col)
            if miss.all():
                raise EmptyDataError(
                    f"every value is missing ({len(df)} rows)", role=role, column=col
                )
            policy = self.missing_predictor if role == "moderator" else self.missing_outcome
            if policy == "drop":
                dropped[f"missing {role} '{col}'"] = int(miss.sum())
                df = df.loc[~miss]
                continue
            klass = MissingModeratorError if role == "moderator" else MissingValueError
            hint = (
                "; every effect needs a value of each moderator (or pass "
                f"{option_hint('missing_predictor', 'drop')} to drop and count those rows)"
                if role == "moderator"
                else f"; pass {option_hint('missing_outcome', 'drop')} to drop and count those rows"
            )
            raise klass(
                f"{int(miss.sum())} missing value(s){hint}",
                role=role,
                column=col,
                rows=list(df.index[miss]),
            )
        if len(df) == 0:
            raise EmptyDataError("no effects left after dropping rows with missing values")
        for col in inputs:
            df[col] = self._numeric(df[col], col)
        self._check_inputs(df)
        for col in self.moderators:
            s = df[col]
            if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
                df[col] = s.astype(str)
                levels = sorted(df[col].unique())
                if len(levels) < 2:
                    raise DegeneratePredictorError(
                        f"categorical moderator has a single level {levels[0]!r}",
                        role="moderator",
                        column=col,
                    )
                ref = (self.reference or {}).get(col)
                if ref is not None and str(ref) not in levels:
                    raise DataError(
                        f"reference level {ref!r} not among the levels {levels}",
                        role="moderator",
                        column=col,
                    )
            else:
                df[col] = self._numeric(s, col)
                if df[col].nunique() < 2:
                    raise DegeneratePredictorError(
                        f"moderator is constant (every value is {df[col].iloc[0]!r})",
                        role="moderator",
                        column=col,
                    )
        if len(df) < 2:
            raise TooFewGroupsError("a meta-analysis needs at least 2 effects", role="effect")
        if self.study:
            n_studies = df[self.study].nunique()
            if n_studies < 2:
                raise TooFewGroupsError(
                    "a meta-analysis needs at least 2 studies", role="study", column=self.study
                )
        if dropped:
            warnings.warn(
                f"dropped {sum(dropped.values())} of {n_input} effects: {dropped}; the count is stored in the results",
                DroppedRowsWarning,
                stacklevel=2,
            )
        return PreparedData(
            frame=df,
            roles=_no_roles(),
            id_roles=(),
            measures=tuple(inputs),
            predictors=tuple(self.moderators),
            n_input=n_input,
            dropped=dropped,
        )

    def _role_of(self, col: str) -> str:
        if col in self.moderators:
            return "moderator"
        if col == self.study:
            return "study"
        if self.form == "counts":
            return "counts"
        return {self.effect: "effect", self.variance: "variance", self.r: "r", self.n: "n"}[col]

    def _numeric(self, s: pd.Series, col: str) -> pd.Series:
        out = pd.to_numeric(s, errors="coerce")
        bad = out.isna() & s.notna()
        if bad.any():
            ex = s[bad].astype(str).unique()[:3].tolist()
            raise NonNumericError(
                f"non-numeric values such as {ex}",
                role=self._role_of(col),
                column=col,
                rows=list(s.index[bad]),
            )
        out = out.astype(float)
        inf = np.isinf(out)
        if inf.any():
            raise NonFiniteError(
                "infinite values", role=self._role_of(col), column=col, rows=list(s.index[inf])
            )
        return out

    def _check_inputs(self, df: pd.DataFrame) -> None:
        idx = df.index
        if self.form == "effect":
            v = df[self.variance]
            bad = v <= 0
            if bad.any():
                raise NegativeVarianceError(
                    f"sampling variances must be > 0; found {v[bad].tolist()[:3]}",
                    role="variance",
                    column=self.variance,
                    rows=list(idx[bad]),
                )
        elif self.form == "r":
            r = df[self.r]
            bad = (r <= -1) | (r >= 1)
            if bad.any():
                raise CorrelationRangeError(
                    f"correlations must lie strictly inside (-1, 1); found {r[bad].tolist()[:3]}",
                    role="r",
                    column=self.r,
                    rows=list(idx[bad]),
                )
            n = df[self.n]
            bad = (n < 4) | (n != np.round(n))
            if bad.any():
                raise SampleSizeError(
                    f"sample sizes must be integers >= 4 (Fisher z has variance 1/(n-3)); found {n[bad].tolist()[:3]}",
                    role="n",
                    column=self.n,
                    rows=list(idx[bad]),
                )
        else:
            cols = list(self.counts)
            for col in cols:
                c = df[col]
                bad = (c < 0) | (c != np.round(c))
                if bad.any():
                    raise CountError(
                        f"counts must be non-negative integers; found {c[bad].tolist()[:3]}",
                        role="counts",
                        column=col,
                        rows=list(idx[bad]),
                    )
            a, b, c, d = (df[col] for col in cols)
            for (e, ne), label in (((a, b), cols[:2]), ((c, d), cols[2:])):
                bad = (e + ne) == 0
                if bad.any():
                    raise CountError(
                        f"empty group: {label[0]} + {label[1]} is 0",
                        role="counts",
                        column=label[0],
                        rows=list(idx[bad]),
                    )
            if self.correction == 0:
                for col in cols:
                    bad = df[col] == 0
                    if bad.any():
                        raise ZeroCellError(
                            f"zero cell in a 2x2 table and {option_hint('correction', 0)}: the log {self.measure.upper()} "
                            f"is infinite; set a continuity correction (e.g. {option_hint('correction', 0.5)})",
                            role="counts",
                            column=col,
                            rows=list(idx[bad]),
                        )

    # -- effects and design ---------------------------------------------------------------
    def effects(self, data: PreparedData | pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Effects ``y`` and sampling variances ``v`` on the analysis scale (Fisher z, log RR,
        log OR, or as given)."""
        df = data.frame if isinstance(data, PreparedData) else data
        if self.form == "effect":
            return df[self.effect].to_numpy(float), df[self.variance].to_numpy(float)
        if self.form == "r":
            r = df[self.r].to_numpy(float)
            n = df[self.n].to_numpy(float)
            return np.arctanh(r), 1.0 / (n - 3.0)
        return counts_to_effects(
            *(df[c].to_numpy(float) for c in self.counts),
            measure=self.measure,
            correction=self.correction,
        )

    def _study_codes(self, data: PreparedData) -> tuple[np.ndarray, np.ndarray]:
        if self.study is None:
            labels = np.asarray(data.frame.index.astype(str))
            return np.arange(data.n_rows), labels
        codes, uniq = pd.factorize(data.frame[self.study].astype(str), sort=True)
        return codes.astype(np.int64), np.asarray(uniq, dtype=str)

    def is_multilevel(self, data: PreparedData) -> bool:
        """Multilevel when a study column is given and some study holds several effects."""
        if self.study is None:
            return False
        codes, labels = self._study_codes(data)
        return len(labels) < len(codes)

    def design(self, data: PreparedData) -> tuple[np.ndarray, list[dict]]:
        """Moderator design matrix (raw units, dummies for categorical moderators) and one
        dict per moderator: ``name``, ``kind``, ``cols`` (indices), ``levels`` (non-reference),
        ``reference``."""
        df = data.frame
        blocks, terms, j = [], [], 0
        for col in self.moderators:
            s = df[col]
            if pd.api.types.is_numeric_dtype(s):
                blocks.append(s.to_numpy(float)[:, None])
                terms.append({"name": col, "kind": "numeric", "cols": [j]})
                j += 1
            else:
                levels = sorted(s.unique())
                ref = str((self.reference or {}).get(col, levels[0]))
                others = [lv for lv in levels if lv != ref]
                blocks.append(np.column_stack([(s == lv).to_numpy(float) for lv in others]))
                terms.append(
                    {
                        "name": col,
                        "kind": "categorical",
                        "cols": list(range(j, j + len(others))),
                        "levels": others,
                        "reference": ref,
                    }
                )
                j += len(others)
        X = np.column_stack(blocks) if blocks else np.zeros((data.n_rows, 0))
        return X, terms

    def _scale(self, y: np.ndarray, v: np.ndarray) -> float:
        if not self.standardize:
            return 1.0
        s = float(np.std(y, ddof=1)) if len(y) > 2 else 0.0
        if not s > 0:
            s = float(np.sqrt(np.mean(v)))
        return s

    def reported(self, data: PreparedData) -> list[str]:
        _, terms = self.design(data)
        names = ["mu", *[f"beta_{t['name']}" for t in terms], "tau", "tau2"]
        if self.is_multilevel(data):
            names += ["tau_study", "tau2_study", "i2", "i2_study", "i2_effect"]
        else:
            names += ["i2"]
        names += ["theta_new"]
        if self.back_suffix:
            names += [f"mu_{self.back_suffix}", f"theta_new_{self.back_suffix}"]
        return names

    def sampled(self, data: PreparedData) -> list[str]:
        return [n for n in self.reported(data) if not n.startswith("theta_new")]

    # -- model ----------------------------------------------------------------------------
    def build(self, data: PreparedData) -> Built:
        y, v = self.effects(data)
        s = self._scale(y, v)
        ys, vs = y / s, v / s**2
        X, terms = self.design(data)
        numeric = np.zeros(X.shape[1], dtype=bool)
        for t in terms:
            if t["kind"] == "numeric":
                numeric[t["cols"]] = True
        loc, sd = self.location_scale(X, axis=0)
        x_mean = np.where(numeric, loc, 0.0)
        x_sd = np.where(numeric, sd, 1.0)
        Xs = (X - x_mean) / x_sd if X.shape[1] else X
        loc_mean, loc_sd = x_mean, x_sd
        multilevel = self.is_multilevel(data)
        study_codes, study_labels = self._study_codes(data)
        priors = self.resolved_priors()
        coords = {"effect": np.asarray(data.frame.index.astype(str)), "term": _term_labels(terms)}
        if multilevel:
            coords["study"] = study_labels
        for t in terms:
            if t["kind"] == "categorical":
                coords[f"{t['name']}_level"] = t["levels"]
        with pm.Model(coords=coords) as model:
            # the data enter as pm.Data: a compiled sampler is reused for another table of
            # the same design (simulation studies; see inference.samplers.structure_key)
            ys = pm.Data("effects_std", ys)
            vs = pm.Data("variances_std", vs)
            log_s = pm.Data("log_scale", np.log(s))
            s_data = pm.math.exp(log_s)
            mu_std = priors["mu"].create_variable("mu_std")
            m = mu_std
            if X.shape[1]:
                Xs = pm.Data("moderators_std", Xs)
                x_mean = pm.Data("moderator_means", x_mean)
                x_sd = pm.Data("moderator_sds", x_sd)
                beta_std = with_dims(priors["beta"], "term").create_variable("beta_std")
                m = m + pt.dot(Xs, beta_std)
            tau_std = priors["tau"].create_variable("tau_std")
            d = vs + tau_std**2
            e = ys - m
            if multilevel:
                tau_s_std = priors["tau_study"].create_variable("tau_study_std")
                ll = _compound_symmetry_loglik(e, d, tau_s_std**2, study_codes, len(study_labels))
                ll = ll - np.bincount(study_codes, minlength=len(study_labels)) * log_s
            else:
                ll = -0.5 * (LOG2PI + pt.log(d) + e**2 / d) - log_s
            pm.Potential("meta_loglik", ll.sum())
            unit = "study" if multilevel else "effect"
            # original scale
            if X.shape[1]:
                coef = beta_std * s_data / x_sd
                mu = pm.Deterministic("mu", s_data * mu_std - pt.sum(coef * x_mean))
                for t in terms:
                    if t["kind"] == "numeric":
                        pm.Deterministic(f"beta_{t['name']}", coef[t["cols"][0]])
                    else:
                        pm.Deterministic(
                            f"beta_{t['name']}", coef[t["cols"]], dims=f"{t['name']}_level"
                        )
            else:
                mu = pm.Deterministic("mu", s_data * mu_std)
            tau = pm.Deterministic("tau", s_data * tau_std)
            tau2 = pm.Deterministic("tau2", tau**2)
            vt = pm.Data("typical_variance", typical_variance(v))
            if multilevel:
                tau_s = pm.Deterministic("tau_study", s_data * tau_s_std)
                tau2_s = pm.Deterministic("tau2_study", tau_s**2)
                total = tau2 + tau2_s + vt
                pm.Deterministic("i2", (tau2 + tau2_s) / total)
                pm.Deterministic("i2_study", tau2_s / total)
                pm.Deterministic("i2_effect", tau2 / total)
            else:
                pm.Deterministic("i2", tau2 / (tau2 + vt))
            if self.back_suffix:
                back = pt.tanh(mu) if self.form == "r" else pt.exp(mu)
                pm.Deterministic(f"mu_{self.back_suffix}", back)
        return Built(
            model=model,
            design={"y": y, "v": v, "X": X, "terms": terms},
            scales={"s": s, "x_mean": loc_mean, "x_sd": loc_sd},
            loglik=ll,  # already on the effects' scale (the -log(s) Jacobian is inside)
            loglik_name="y",
            loglik_dim=unit,
            loglik_coords=study_labels if multilevel else coords["effect"],
            info={
                "form": self.form,
                "scale": {"effect": "as given", "r": "Fisher z", "counts": f"log {self.measure}"}[
                    self.form
                ],
                "multilevel": multilevel,
                "loglik_unit": unit,
                "references": {
                    t["name"]: t["reference"] for t in terms if t["kind"] == "categorical"
                },
            },
        )

    # -- after sampling -------------------------------------------------------------------
    def postprocess(self, idata: xr.DataTree, data: PreparedData, built: Built) -> xr.DataTree:
        """Add ``theta_new`` (the effect of a new study at the moderators' zero / reference
        levels: mu + N(0, tau^2 + tau_study^2); its interval is the prediction interval),
        its back-transform, and probabilities of direction."""
        post = idata["posterior"].to_dataset()
        rng = np.random.default_rng(THETA_NEW_SEED)
        sd = post["tau"] ** 2
        if "tau_study" in post:
            sd = sd + post["tau_study"] ** 2
        z = xr.DataArray(
            rng.standard_normal(post["mu"].shape), dims=post["mu"].dims, coords=post["mu"].coords
        )
        post["theta_new"] = post["mu"] + np.sqrt(sd) * z
        if self.back_suffix:
            f = np.tanh if self.form == "r" else np.exp
            post[f"theta_new_{self.back_suffix}"] = f(post["theta_new"])
        idata["posterior"] = xr.DataTree(post)
        probs = {
            "P(mu > 0)": float((post["mu"] > 0).mean()),
            "P(theta_new > 0)": float((post["theta_new"] > 0).mean()),
        }
        for t in built.design["terms"]:
            b = post[f"beta_{t['name']}"]
            if t["kind"] == "numeric":
                probs[f"P(beta_{t['name']} > 0)"] = float((b > 0).mean())
            else:
                for lv in t["levels"]:
                    probs[f"P(beta_{t['name']}[{lv}] > 0)"] = float(
                        (b.sel({f"{t['name']}_level": lv}) > 0).mean()
                    )
        built.probabilities.update(probs)
        return idata

    def observed_data(self, data: PreparedData, built: Built) -> xr.Dataset:
        idx = np.asarray(data.frame.index.astype(str))
        d = built.design
        return xr.Dataset(
            {"y": ("effect", d["y"]), "v": ("effect", d["v"])}, coords={"effect": idx}
        )

    def posterior_predictive(self, idata, data, built, *, seed: int = 0, max_draws: int = 500):
        """Replicated effects for new true effects of the same studies (a mixed predictive
        check of the heterogeneity model), for at most ``max_draws`` draws."""
        d = built.design
        y, v, X, terms = d["y"], d["v"], d["X"], d["terms"]
        post = idata["posterior"].to_dataset().stack(sample=("chain", "draw"))
        rng = np.random.default_rng(seed)
        n = post.sizes["sample"]
        pick = np.sort(rng.choice(n, size=min(max_draws, n), replace=False))
        codes, labels = self._study_codes(data)
        reps = np.empty((len(pick), len(y)))
        for r, k in enumerate(pick):
            m = np.full(len(y), float(post["mu"].values[k]))
            for t in terms:
                b = np.atleast_1d(post[f"beta_{t['name']}"].values[..., k])
                m = m + X[:, t["cols"]] @ b
            theta = m + float(post["tau"].values[k]) * rng.standard_normal(len(y))
            if "tau_study" in post:
                theta = (
                    theta
                    + float(post["tau_study"].values[k]) * rng.standard_normal(len(labels))[codes]
                )
            reps[r] = theta + np.sqrt(v) * rng.standard_normal(len(y))
        return xr.Dataset(
            {"y": (("chain", "draw", "effect"), reps[None])},
            coords={
                "chain": [0],
                "draw": np.arange(len(pick)),
                "effect": np.asarray(data.frame.index.astype(str)),
            },
        )


# -- helpers -------------------------------------------------------------------------------
def _term_labels(terms: list[dict]) -> list[str]:
    out = []
    for t in terms:
        if t["kind"] == "numeric":
            out.append(t["name"])
        else:
            out += [f"{t['name']}[{lv}]" for lv in t["levels"]]
    return out


def counts_to_effects(ai, bi, ci, di, *, measure: str = "rr", correction: float = 0.5):
    """Log risk ratio or log odds ratio and its large-sample variance from 2x2 counts.

    ``correction`` is added to all four cells of tables with a zero cell (metafor's
    ``add=1/2, to="only0"``).
    """
    a, b, c, d = (np.asarray(x, dtype=float).copy() for x in (ai, bi, ci, di))
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    for x in (a, b, c, d):
        x[zero] += correction
    if measure == "rr":
        y = np.log(a / (a + b)) - np.log(c / (c + d))
        v = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    elif measure == "or":
        y = np.log(a * d / (b * c))
        v = 1 / a + 1 / b + 1 / c + 1 / d
    else:
        raise ConfigError(f"measure must be 'rr' or 'or', got {measure!r}")
    return y, v


def typical_variance(v: np.ndarray) -> float:
    """Higgins & Thompson's typical within-study variance, used in I^2:
    (k - 1) sum(w) / ((sum w)^2 - sum(w^2)) with w = 1 / v."""
    w = 1.0 / np.asarray(v, dtype=float)
    k = len(w)
    return float((k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum()))


def _compound_symmetry_loglik(e, d, a, codes: np.ndarray, n_groups: int):
    """Per-group log N(e_g | 0, diag(d_g) + a 11') by the determinant lemma and
    Sherman-Morrison."""

    def seg(x):
        return pt.zeros((n_groups,), dtype=x.dtype)[codes].inc(x)

    counts = np.bincount(codes, minlength=n_groups)
    s1 = seg(1.0 / d)
    se = seg(e / d)
    q = seg(e**2 / d)
    denom = 1.0 + a * s1
    logdet = seg(pt.log(d)) + pt.log(denom)
    quad = q - a * se**2 / denom
    return -0.5 * (counts * LOG2PI + logdet + quad)


__all__ = [
    "CorrelationRangeError",
    "CountError",
    "MetaAnalysis",
    "MissingModeratorError",
    "NegativeVarianceError",
    "SampleSizeError",
    "ZeroCellError",
    "counts_to_effects",
    "typical_variance",
]
