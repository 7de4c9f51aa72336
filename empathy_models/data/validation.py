"""Validation of user data against the roles and measures a model needs.

:func:`prepare` is the single entry point. It never modifies the caller's frame, never fixes
data silently, and raises a :class:`~empathy_models.errors.DataError` subclass naming the role,
the column and the first offending rows. Rows dropped under a missing-value policy are
counted in :attr:`PreparedData.dropped` and travel into the results' metadata.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from empathy_models.data.io import read_table
from empathy_models.data.roles import ID_ROLES, Roles
from empathy_models.errors import (
    COLUMN,
    DataError,
    DegeneratePredictorError,
    DroppedRowsWarning,
    DuplicateOccasionError,
    EmptyDataError,
    MissingColumnError,
    MissingValueError,
    MomentOrderError,
    NestingError,
    NonFiniteError,
    NonNumericError,
    ScaleBoundsError,
    SessionNumberError,
    TooFewGroupsError,
    TooFewGroupsWarning,
    UnknownLevelError,
    option_hint,
)

MissingOutcome = Literal["drop", "model", "error"]
MissingPredictor = Literal["error", "drop"]

#: Roles that are grouping levels of a model: a user may switch them off.
LEVEL_ROLES = ("therapist", "client", "session")

#: Below this many groups a level's variance is weakly identified; a warning says so.
FEW_GROUPS = 10


@dataclass
class PreparedData:
    """Validated data ready for a model.

    Attributes
    ----------
    frame
        A validated copy of the rows in use (index: the user's row labels).
    roles
        The role mapping used.
    id_roles
        Roles present and used by the model, in nesting order.
    measures, predictors
        Numeric columns in use.
    n_input
        Rows in the user's data.
    dropped
        Rows dropped, by reason (for example ``{"missing outcome 'alliance'": 3}``).
    missing_modelled
        Missing outcome values kept and modelled, by column.
    """

    frame: pd.DataFrame
    roles: Roles
    id_roles: tuple[str, ...]
    measures: tuple[str, ...] = ()
    predictors: tuple[str, ...] = ()
    n_input: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    missing_modelled: dict[str, int] = field(default_factory=dict)

    def column(self, role: str) -> str:
        """User's column name for ``role``."""
        col = self.roles.column(role)
        if col is None or role not in self.id_roles:
            raise KeyError(f"role {role!r} is not in use for this data")
        return col

    def has(self, role: str) -> bool:
        """Whether ``role`` is present and used."""
        return role in self.id_roles

    def codes(self, role: str) -> tuple[np.ndarray, np.ndarray]:
        """Integer codes (0..G-1) and sorted labels of an id role.

        Sessions are coded per (client, session) pair when a client role is present, since
        session numbers repeat across clients.
        """
        cache = self.__dict__.setdefault("_codes_cache", {})
        key = (role, id(self.frame))  # a model that replaces the frame gets fresh codes
        if key not in cache:
            cache[key] = self._codes(role)
        return cache[key]

    def _codes(self, role: str) -> tuple[np.ndarray, np.ndarray]:
        if role == "session" and self.has("client"):
            # Factorize each column, then the pairs as integers: labels are built per session,
            # not per row (string keys per row dominate load time at a million rows).
            c_codes, c_uniq = pd.factorize(self.frame[self.column("client")], sort=True)
            s_codes, s_uniq = pd.factorize(self.frame[self.column("session")], sort=True)
            pair = c_codes.astype(np.int64) * len(s_uniq) + s_codes
            codes, uniq_pair = pd.factorize(pair, sort=True)
            c_lab = _label_array(c_uniq)[uniq_pair // len(s_uniq)]
            s_lab = _label_array(s_uniq)[uniq_pair % len(s_uniq)]
            labels = np.char.add(np.char.add(c_lab.astype(str), ":"), s_lab.astype(str))
            return codes.astype(np.int64), labels
        values = self.frame[self.column(role)].to_numpy()
        codes, uniq = pd.factorize(values, sort=True)
        return codes.astype(np.int64), _label_array(uniq)

    def n_groups(self, role: str) -> int:
        return len(self.codes(role)[1])

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def summary(self) -> dict:
        """Rows used and dropped, and group counts: stored in every result."""
        out = {
            "rows_input": int(self.n_input),
            "rows_used": int(len(self.frame)),
            "rows_dropped": int(sum(self.dropped.values())),
            "dropped_by_reason": {k: int(v) for k, v in self.dropped.items()},
            "missing_modelled": {k: int(v) for k, v in self.missing_modelled.items()},
        }
        for role in self.id_roles:
            out[f"n_{role}"] = int(self.n_groups(role))
        return out


def _label_array(uniq) -> np.ndarray:
    arr = np.asarray(uniq)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    return arr.astype(str)


def _rows(mask: pd.Series | np.ndarray, index: pd.Index) -> list:
    mask = np.asarray(mask, dtype=bool)
    return list(index[mask])


def prepare(
    data: pd.DataFrame | str | Path,
    roles: Roles | None = None,
    *,
    id_roles: Sequence[str] = (),
    optional_id_roles: Sequence[str] = (),
    measures: Sequence[str] = (),
    predictors: Sequence[str] = (),
    bounds: Mapping[str, tuple[float, float]] | None = None,
    missing_outcome: MissingOutcome = "drop",
    missing_predictor: MissingPredictor = "error",
    levels: Mapping[str, Sequence] | None = None,
    occasion_roles: Sequence[str] | None = None,
    grouping_roles: Sequence[str] = (),
    extra_columns: Sequence[str] = (),
) -> PreparedData:
    """Validate ``data`` for a model and return a :class:`PreparedData`.

    Parameters
    ----------
    data
        DataFrame (not modified) or path to CSV/Parquet.
    roles
        Column mapping; defaults to columns named like the roles.
    id_roles
        Roles the model requires (missing column: :class:`MissingColumnError`).
    optional_id_roles
        Roles used when their column is present.
    measures
        Numeric outcome columns: missing values follow ``missing_outcome``.
    predictors
        Numeric predictor columns: missing values follow ``missing_predictor``; an all-missing
        or constant predictor is an error.
    bounds
        Declared scale bounds per column, e.g. ``{"alliance": (1, 7)}``.
    missing_outcome
        ``"drop"`` (default; rows dropped and counted), ``"model"`` (kept, the model treats
        them as unknown) or ``"error"``.
    missing_predictor
        ``"error"`` (default) or ``"drop"`` (rows dropped and counted).
    levels
        Declared levels of categorical roles, e.g. ``{"intervention": ["ERP", "MI"]}``; a
        level in the data but not declared, or declared but without data, is an error.
    occasion_roles
        Roles whose values identify one occasion; duplicates are an error. Defaults to the
        present roles among client, session, moment (and rater).
    grouping_roles
        Roles whose groups carry a variance component: fewer than 2 groups is an error,
        fewer than 10 a warning.
    extra_columns
        Further columns to carry along unchecked.
    """
    roles = roles or Roles()
    df = read_table(data)
    n_input = len(df)
    bounds = dict(bounds or {})
    levels = {k: list(v) for k, v in (levels or {}).items()}

    used_roles = _resolve_roles(df, roles, id_roles, optional_id_roles)
    numeric = list(dict.fromkeys([*measures, *predictors]))
    for col in numeric:
        if col not in df.columns:
            role = "measure" if col in measures else "predictor"
            raise MissingColumnError(
                f"column {col!r} not found in the data; columns are {list(df.columns)}",
                role=role,
                column=col,
            )
    for col in extra_columns:
        if col not in df.columns:
            raise MissingColumnError(f"column {col!r} not found in the data", column=col)

    id_cols = [roles.column(r) for r in used_roles]
    keep = list(dict.fromkeys([*id_cols, *numeric, *extra_columns]))
    df = df.loc[:, keep].copy()

    for role in used_roles:
        col = roles.column(role)
        miss = df[col].isna()
        if miss.any():
            raise MissingValueError(
                f"{int(miss.sum())} missing id value(s)",
                role=role,
                column=col,
                rows=_rows(miss, df.index),
            )

    df = _coerce_numeric(df, measures, predictors, bounds)

    dropped: dict[str, int] = {}
    missing_modelled: dict[str, int] = {}
    for col in measures:
        miss = df[col].isna()
        if not miss.any():
            continue
        if miss.all():
            raise EmptyDataError(
                f"every value of the measure is missing ({len(df)} rows)",
                role="measure",
                column=col,
            )
        if missing_outcome == "error":
            raise MissingValueError(
                f"{int(miss.sum())} missing outcome value(s); pass "
                f"{option_hint('missing_outcome', 'drop')} or {option_hint('missing_outcome', 'model')}",
                role="measure",
                column=col,
                rows=_rows(miss, df.index),
            )
        if missing_outcome == "drop":
            dropped[f"missing outcome '{col}'"] = int(miss.sum())
            df = df.loc[~miss]
        else:
            missing_modelled[col] = int(miss.sum())
    for col in predictors:
        if col in measures:
            continue
        miss = df[col].isna()
        if miss.all():
            raise DegeneratePredictorError("predictor is all missing", role="predictor", column=col)
        if not miss.any():
            continue
        if missing_predictor == "drop":
            dropped[f"missing predictor '{col}'"] = int(miss.sum())
            df = df.loc[~miss]
        else:
            raise MissingValueError(
                f"{int(miss.sum())} missing predictor value(s); the documented policy "
                f"{option_hint('missing_predictor', 'drop')} drops and counts these rows",
                role="predictor",
                column=col,
                rows=_rows(miss, df.index),
            )
    if len(df) == 0:
        raise EmptyDataError("no rows left after removing rows with missing values")
    for col in predictors:
        if df[col].nunique(dropna=True) < 2:
            raise DegeneratePredictorError(
                f"predictor is constant (every value is {df[col].iloc[0]!r})",
                role="predictor",
                column=col,
            )

    _check_nesting(df, roles, used_roles)
    if "session" in used_roles:
        _check_sessions(df, roles)
    occ = (
        list(occasion_roles)
        if occasion_roles is not None
        else [r for r in ("client", "session", "moment", "rater") if r in used_roles]
    )
    occ = [r for r in occ if r in used_roles]
    if occ and ("session" in occ or "moment" in occ):
        _check_duplicates(df, roles, occ)
    if "moment" in used_roles:
        _check_moment_order(df, roles, used_roles)
    for role, declared in levels.items():
        if role in used_roles:
            _check_levels(df, roles, role, declared)
    for role in grouping_roles:
        if role in used_roles:
            _check_group_count(df, roles, role)

    if dropped:
        warnings.warn(
            f"dropped {sum(dropped.values())} of {n_input} rows: {dropped}; the count is stored in the results",
            DroppedRowsWarning,
            stacklevel=2,
        )
    return PreparedData(
        frame=df,
        roles=roles,
        id_roles=tuple(used_roles),
        measures=tuple(measures),
        predictors=tuple(p for p in predictors if p not in measures),
        n_input=n_input,
        dropped=dropped,
        missing_modelled=missing_modelled,
    )


def _resolve_roles(df, roles, id_roles, optional_id_roles) -> list[str]:
    if len(df) == 0:
        raise EmptyDataError("the data has no rows")
    used = []
    for role in id_roles:
        col = roles.column(role)
        if col is None:
            raise MissingColumnError(
                f"the model needs the {role!r} role but it is switched off "
                f"({option_hint(role, None, role=True)}); map it to a column with "
                f"{option_hint(role, COLUMN, role=True)}",
                role=role,
            )
        if col not in df.columns:
            raise MissingColumnError(
                f"column {col!r} for the {role!r} role not found; columns are {list(df.columns)}. "
                f"Map your column with {option_hint(role, COLUMN, role=True)}"
                + (
                    f", or switch the {role} level off with {option_hint(role, None, role=True)}"
                    if role in LEVEL_ROLES
                    else ""
                ),
                role=role,
                column=col,
            )
        used.append(role)
    for role in optional_id_roles:
        col = roles.column(role)
        if col is not None and col in df.columns and role not in used:
            used.append(role)
    return sorted(used, key=ID_ROLES.index)


def _coerce_numeric(df, measures, predictors, bounds) -> pd.DataFrame:
    cols = list(dict.fromkeys([*measures, *predictors]))
    if not cols:
        return df
    role_of = {c: ("measure" if c in measures else "predictor") for c in cols}
    coerce = pa.DataFrameSchema({c: pa.Column(float, coerce=True, nullable=True) for c in cols})
    try:
        df = coerce.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        col = str(fc["column"].iloc[0])
        bad = fc.loc[fc["column"] == col]
        rows = list(dict.fromkeys(r for r in bad["index"].tolist() if r is not None))
        examples = bad["failure_case"].astype(str).unique()[:3].tolist()
        raise NonNumericError(
            f"non-numeric values such as {examples}", role=role_of[col], column=col, rows=rows
        ) from None
    checks = {}
    for c in cols:
        cc = [pa.Check(lambda s: ~np.isinf(s), element_wise=False, name="finite")]
        if c in bounds:
            lo, hi = bounds[c]
            cc.append(pa.Check.in_range(lo, hi, name="bounds"))
        checks[c] = pa.Column(float, nullable=True, checks=cc)
    try:
        pa.DataFrameSchema(checks).validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc.loc[fc["index"].notna()]
        first = fc.iloc[0]
        col = str(first["column"])
        bad = fc.loc[(fc["column"] == col) & (fc["check"] == first["check"])]
        rows = bad["index"].tolist()
        if first["check"] == "finite":
            raise NonFiniteError(
                "infinite values", role=role_of[col], column=col, rows=rows
            ) from None
        lo, hi = bounds[col]
        raise ScaleBoundsError(
            f"values outside the declared scale bounds [{lo}, {hi}], e.g. {bad['failure_case'].tolist()[:3]}",
            role=role_of[col],
            column=col,
            rows=rows,
        ) from None
    return df


def _check_nesting(df, roles, used) -> None:
    if not ("therapist" in used and "client" in used) or roles.crossed:
        return
    tcol, ccol = roles.therapist, roles.client
    n_ther = df.groupby(ccol, sort=False, observed=True)[tcol].nunique()
    bad_clients = n_ther.index[n_ther > 1]
    if len(bad_clients):
        rows = _rows(df[ccol].isin(bad_clients[:1]), df.index)
        raise NestingError(
            f"client {bad_clients[0]!r} appears under {int(n_ther.loc[bad_clients[0]])} therapists "
            f"({len(bad_clients)} such clients). If client ids are only unique within a therapist, "
            "make them unique (e.g. therapist + '_' + client); if clients really see several "
            f"therapists, declare {option_hint('crossed', True, role=True)}",
            role="client",
            column=ccol,
            rows=rows,
        )


def _check_sessions(df, roles) -> None:
    col = roles.session
    s = pd.to_numeric(df[col], errors="coerce")
    bad = s.isna() | (s < 0) | (s != np.floor(s))
    if bad.any():
        examples = df.loc[bad, col].astype(str).unique()[:3].tolist()
        raise SessionNumberError(
            f"session numbers must be non-negative integers; found {examples}",
            role="session",
            column=col,
            rows=_rows(bad, df.index),
        )


def _check_duplicates(df, roles, occ_roles) -> None:
    cols = [roles.column(r) for r in occ_roles]
    dup = df.duplicated(subset=cols, keep=False)
    if dup.any():
        raise DuplicateOccasionError(
            f"{int(dup.sum())} rows share an occasion ({', '.join(cols)}); each occasion must appear once",
            role="/".join(occ_roles),
            column=", ".join(cols),
            rows=_rows(dup, df.index),
        )


def _check_moment_order(df, roles, used) -> None:
    mcol = roles.moment
    m = df[mcol]
    if not (pd.api.types.is_numeric_dtype(m) or pd.api.types.is_datetime64_any_dtype(m)):
        parsed = pd.to_numeric(m, errors="coerce")
        if parsed.isna().any():
            parsed = pd.to_datetime(m, errors="coerce")
        if parsed.isna().any():
            bad = parsed.isna()
            raise MomentOrderError(
                "moments must be integers or timestamps",
                role="moment",
                column=mcol,
                rows=_rows(bad, df.index),
            )
        m = parsed
    keys = [roles.column(r) for r in ("client", "session") if r in used]
    if keys:
        prev = m.groupby([df[k] for k in keys], sort=False).shift(1)
    else:
        prev = m.shift(1)
    bad = prev.notna() & (m <= prev)
    if bad.any():
        raise MomentOrderError(
            "moments are out of order inside a session (each row's moment must be larger than "
            "the previous row's in the same session); sort the data by session and moment",
            role="moment",
            column=mcol,
            rows=_rows(bad, df.index),
        )


def _check_levels(df, roles, role, declared) -> None:
    col = roles.column(role)
    present = pd.unique(df[col])
    unknown = [v for v in present if v not in set(declared)]
    if unknown:
        raise UnknownLevelError(
            f"level(s) {unknown[:5]} are in the data but not among the declared levels {declared}",
            role=role,
            column=col,
            rows=_rows(df[col].isin(unknown), df.index),
        )
    empty = [v for v in declared if v not in set(present)]
    if empty:
        raise UnknownLevelError(
            f"declared level(s) {empty} have no rows in the data; remove them or add data",
            role=role,
            column=col,
        )


def _check_group_count(df, roles, role) -> None:
    col = roles.column(role)
    n = df[col].nunique()
    if n < 2:
        raise TooFewGroupsError(
            f"only {n} {role} group(s): at least 2 are needed to estimate a {role}-level variance; "
            f"drop the {role} level ({option_hint(role, None, role=True)}) or add data",
            role=role,
            column=col,
        )
    if n < FEW_GROUPS:
        warnings.warn(
            f"only {n} {role} groups (column {col!r}): the {role}-level variance is weakly "
            f"identified with fewer than {FEW_GROUPS} groups and its posterior will lean on the prior",
            TooFewGroupsWarning,
            stacklevel=3,
        )


__all__ = ["PreparedData", "prepare", "DataError"]
