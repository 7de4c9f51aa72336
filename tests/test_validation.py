"""Every bad-input case of the SPEC raises the package's typed error naming role, column, rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from empathy_models import Roles, prepare
from empathy_models.errors import (
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
)

ID = ["therapist", "client", "session"]


def test_errors_are_value_errors():
    assert issubclass(DataError, ValueError)
    for cls in (MissingColumnError, NestingError, ScaleBoundsError, UnknownLevelError):
        assert issubclass(cls, DataError)


def test_missing_role_column(sessions_df):
    df = sessions_df.rename(columns={"therapist": "tid"})
    with pytest.raises(MissingColumnError, match="'therapist'") as ei:
        prepare(df, id_roles=ID, measures=["alliance"])
    assert ei.value.role == "therapist" and ei.value.column == "therapist"
    # the same data with the role mapped works
    out = prepare(df, Roles(therapist="tid"), id_roles=ID, measures=["alliance"])
    assert out.n_groups("therapist") == 30


def test_missing_measure_column(sessions_df):
    with pytest.raises(MissingColumnError, match="'empathy'"):
        prepare(sessions_df, id_roles=ID, measures=["empathy"])


def test_non_numeric_measure_names_rows(sessions_df):
    df = sessions_df.astype({"alliance": object})
    df.loc[[5, 9], "alliance"] = "high"
    with pytest.raises(NonNumericError) as ei:
        prepare(df, id_roles=ID, measures=["alliance"])
    assert ei.value.column == "alliance" and ei.value.rows == [5, 9]
    assert "'high'" in str(ei.value) and "[5, 9]" in str(ei.value)


def test_infinite_values(sessions_df):
    df = sessions_df.copy()
    df.loc[7, "x"] = np.inf
    with pytest.raises(NonFiniteError, match="column 'x'") as ei:
        prepare(df, id_roles=ID, measures=["alliance"], predictors=["x"])
    assert ei.value.rows == [7] and ei.value.role == "predictor"


def test_client_under_two_therapists(sessions_df):
    df = sessions_df.copy()
    df.loc[0, "therapist"] = "T001"  # client C0000 now also under T001
    with pytest.raises(NestingError, match="crossed") as ei:
        prepare(df, id_roles=ID, measures=["alliance"])
    assert ei.value.column == "client" and 0 in ei.value.rows
    # declaring a crossed design accepts it
    prepare(df, Roles(crossed=True), id_roles=ID, measures=["alliance"])


def test_duplicated_occasion(sessions_df):
    df = pd.concat([sessions_df, sessions_df.iloc[[3]]])
    with pytest.raises(DuplicateOccasionError) as ei:
        prepare(df, id_roles=ID, measures=["alliance"])
    assert ei.value.rows == [3, 3]


@pytest.mark.parametrize("bad", [2.5, -1, "first"])
def test_bad_session_numbers(sessions_df, bad):
    df = sessions_df.astype({"session": object})
    df.loc[4, "session"] = bad
    with pytest.raises(SessionNumberError, match="non-negative integers") as ei:
        prepare(df, id_roles=ID, measures=["alliance"])
    assert ei.value.rows == [4]


def test_moments_out_of_order(ema_df):
    df = ema_df.copy()
    df.loc[[0, 1], "moment"] = [2, 1]
    with pytest.raises(MomentOrderError) as ei:
        prepare(df, id_roles=[*ID, "moment"], measures=["alliance"])
    assert ei.value.rows == [1]


def test_values_outside_scale_bounds(sessions_df):
    df = sessions_df.copy()
    df["alliance"] = df["alliance"].clip(1, 7)
    df.loc[11, "alliance"] = 9
    with pytest.raises(ScaleBoundsError, match=r"\[1, 7\]") as ei:
        prepare(df, id_roles=ID, measures=["alliance"], bounds={"alliance": (1, 7)})
    assert ei.value.rows == [11]


def test_constant_and_all_missing_predictor(sessions_df):
    with pytest.raises(DegeneratePredictorError, match="constant"):
        prepare(sessions_df.assign(x=1.0), id_roles=ID, measures=["alliance"], predictors=["x"])
    with pytest.raises(DegeneratePredictorError, match="all missing"):
        prepare(sessions_df.assign(x=np.nan), id_roles=ID, measures=["alliance"], predictors=["x"])


def test_unknown_and_empty_levels(sessions_df):
    df = sessions_df.assign(intervention=np.where(sessions_df.index % 2, "ERP", "MI"))
    with pytest.raises(UnknownLevelError, match="'MI'") as ei:
        prepare(
            df,
            id_roles=[*ID, "intervention"],
            measures=["alliance"],
            levels={"intervention": ["ERP"]},
        )
    assert ei.value.column == "intervention"
    with pytest.raises(UnknownLevelError, match="no rows"):
        prepare(
            df,
            id_roles=[*ID, "intervention"],
            measures=["alliance"],
            levels={"intervention": ["ERP", "MI", "CBT"]},
        )


def test_empty_frame(sessions_df):
    with pytest.raises(EmptyDataError):
        prepare(sessions_df.iloc[:0], id_roles=ID, measures=["alliance"])


def test_too_few_groups(sessions_df):
    one = sessions_df.assign(therapist="T000")
    with pytest.raises(TooFewGroupsError, match="at least 2"):
        prepare(one, id_roles=ID, measures=["alliance"], grouping_roles=["therapist"])
    few = sessions_df[sessions_df["therapist"].isin(["T000", "T001", "T002"])]
    with pytest.warns(TooFewGroupsWarning, match="only 3 therapist groups"):
        prepare(few, id_roles=ID, measures=["alliance"], grouping_roles=["therapist"])


def test_missing_outcome_dropped_and_counted(sessions_df):
    df = sessions_df.copy()
    df.loc[[2, 8, 13], "alliance"] = np.nan
    with pytest.warns(DroppedRowsWarning):
        out = prepare(df, id_roles=ID, measures=["alliance"])
    summary = out.summary()
    assert summary["rows_input"] == len(df)
    assert summary["rows_used"] == len(df) - 3
    assert summary["rows_dropped"] == 3
    assert summary["dropped_by_reason"] == {"missing outcome 'alliance'": 3}
    modelled = prepare(df, id_roles=ID, measures=["alliance"], missing_outcome="model")
    assert modelled.summary()["missing_modelled"] == {"alliance": 3}
    with pytest.raises(MissingValueError):
        prepare(df, id_roles=ID, measures=["alliance"], missing_outcome="error")


def test_missing_predictor_is_error_unless_policy(sessions_df):
    df = sessions_df.copy()
    df.loc[[4], "x"] = np.nan
    with pytest.raises(MissingValueError, match="missing_predictor='drop'") as ei:
        prepare(df, id_roles=ID, measures=["alliance"], predictors=["x"])
    assert ei.value.rows == [4]
    with pytest.warns(DroppedRowsWarning):
        out = prepare(
            df, id_roles=ID, measures=["alliance"], predictors=["x"], missing_predictor="drop"
        )
    assert out.summary()["dropped_by_reason"] == {"missing predictor 'x'": 1}


def test_missing_id(sessions_df):
    df = sessions_df.copy()
    df.loc[6, "client"] = None
    with pytest.raises(MissingValueError) as ei:
        prepare(df, id_roles=ID, measures=["alliance"])
    assert ei.value.role == "client" and ei.value.rows == [6]


def test_callers_frame_is_never_mutated(sessions_df):
    df = sessions_df.copy()
    df.loc[[2], "alliance"] = np.nan
    before = df.copy(deep=True)
    with pytest.warns(DroppedRowsWarning):
        prepare(df, id_roles=ID, measures=["alliance"], predictors=["x"])
    pd.testing.assert_frame_equal(df, before)


def test_csv_and_parquet_inputs(sessions_df, tmp_path):
    sessions_df.to_csv(tmp_path / "d.csv", index=False)
    sessions_df.to_parquet(tmp_path / "d.parquet")
    a = prepare(tmp_path / "d.csv", id_roles=ID, measures=["alliance"])
    b = prepare(tmp_path / "d.parquet", id_roles=ID, measures=["alliance"])
    np.testing.assert_allclose(a.frame["alliance"], b.frame["alliance"])
    with pytest.raises(DataError, match="unsupported file type"):
        prepare(tmp_path / "d.xlsx", id_roles=ID, measures=["alliance"])


def test_integer_and_string_ids(sessions_df):
    df = sessions_df.assign(therapist=sessions_df["therapist"].str[1:].astype(int))
    out = prepare(df, id_roles=ID, measures=["alliance"])
    codes, labels = out.codes("therapist")
    assert labels.dtype.kind == "i" and codes.max() == 29
