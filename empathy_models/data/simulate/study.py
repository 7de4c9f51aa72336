"""A simulated study: :func:`simulate_study`, the :class:`SimulatedStudy` it returns, its
files, and the shipped study in ``data/simulated_study``."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from empathy_models._io import atomic_write, dumps, loads, read_json
from empathy_models.data.simulate.card import data_card as render_card
from empathy_models.data.simulate.design import SHIPPED_SEED, StudyDesign, shipped_design
from empathy_models.data.simulate.levels import Layout, draw_levels
from empathy_models.data.simulate.moments import circuit_parameters, moment_affect
from empathy_models.data.simulate.outcomes import post_outcome, session_outcome
from empathy_models.data.simulate.ratings import session_ratings
from empathy_models.data.simulate.tables import (
    TABLES,
    clients_table,
    id_labels,
    moments_table,
    ratings_table,
    sessions_table,
    therapists_table,
)
from empathy_models.data.simulate.truths import study_truth
from empathy_models.errors import ConfigError

#: Float format of the written CSV files (4 decimals).
FLOAT_FORMAT = "%.4f"
#: Independent random streams, one per component, in spawn order (append only).
STREAMS: tuple[str, ...] = (
    "therapists",
    "clients",
    "client_effects",
    "session_effects",
    "raters",
    "outcome",
    "post_outcome",
    "circuit",
    "moments",
    "missing_moments",
    "missing_outcomes",
)
#: How the shipped study is regenerated (quoted in its data card).
SHIPPED_COMMAND = "python scripts/make_shipped_data.py"

_STRING_COLUMNS = ("therapist", "client", "intervention", "rater", "phase")
_INT_COLUMNS = ("session", "moment")


@dataclass
class SimulatedStudy:
    """Data and truth of one simulated study.

    Attributes
    ----------
    therapists : pandas.DataFrame
        One row per therapist: ``therapist``, ``trait_affect_sharing``,
        ``trait_mentalizing``, ``trait_empathic_concern``, ``regulation``.
    clients : pandas.DataFrame
        One row per client: ``therapist``, ``client``, ``intervention``, ``severity``,
        ``post_outcome``.
    sessions : pandas.DataFrame
        One row per session, client-rated: ``therapist``, ``client``, ``session``,
        ``intervention``, ``affect_sharing``, ``mentalizing``, ``empathic_concern``,
        ``empathy``, ``alliance``, ``outcome``.
    ratings : pandas.DataFrame or None
        Long multi-rater table (``None`` when ``include_ratings=False``): ``therapist``,
        ``client``, ``session``, ``rater``, and the four measures.
    moments : pandas.DataFrame or None
        EMA table (``None`` when ``moments_per_session=0``): ``therapist``, ``client``,
        ``session``, ``moment``, ``phase``, ``client_affect``, ``therapist_affect``.
    truth : dict
        True parameters, JSON-serializable (see :func:`simulate_study`).
    design : StudyDesign
        The generating design.
    seed : int
        The seed.
    """

    therapists: pd.DataFrame
    clients: pd.DataFrame
    sessions: pd.DataFrame
    ratings: pd.DataFrame | None
    moments: pd.DataFrame | None
    truth: dict[str, Any]
    design: StudyDesign
    seed: int

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that exist, by name (``therapists`` ... ``moments``)."""
        out = {name: getattr(self, name) for name in TABLES}
        return {k: v for k, v in out.items() if v is not None}

    def write(
        self, directory: str | Path, *, data_card: bool = False, command: str | None = None
    ) -> Path:
        """Write the study as CSV and JSON files.

        Writes ``therapists.csv``, ``clients.csv``, ``sessions.csv``, ``ratings.csv`` and
        ``moments.csv`` (those that exist; a stale copy of a missing one is removed),
        ``truth.json`` and ``design.json``; floats with 4 decimals, ``\\n`` line ends, so
        the bytes depend only on the design and seed. Every file is written atomically.

        Parameters
        ----------
        directory
            Folder (created if missing).
        data_card
            Also write ``DATA_CARD.md`` (see :func:`~empathy_models.data.simulate.data_card`).
        command
            Regeneration command quoted in the data card.

        Returns
        -------
        pathlib.Path
            The folder.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tables = self.tables()
        for name in TABLES:
            path = directory / f"{name}.csv"
            if name in tables:
                atomic_write(path, to_csv(tables[name]).encode("utf-8"))
            elif path.exists():  # a table this study does not have: remove a stale copy
                path.unlink()
        meta = {"seed": self.seed, "design": self.design.to_dict()}
        atomic_write(directory / "truth.json", _json_bytes(self.truth))
        atomic_write(directory / "design.json", _json_bytes(meta))
        if data_card:
            text = render_card(self, command)
            atomic_write(directory / "DATA_CARD.md", text.encode("utf-8"))
        return directory

    @classmethod
    def read(cls, directory: str | Path) -> SimulatedStudy:
        """Read a study written by :meth:`write` (floats then carry 4 decimals)."""
        directory = Path(directory)
        meta = read_json(directory / "design.json")
        truth = read_json(directory / "truth.json")
        frames: dict[str, pd.DataFrame | None] = {}
        for name in TABLES:
            path = directory / f"{name}.csv"
            frames[name] = read_csv(path) if path.exists() else None
        return cls(
            **frames,
            truth=truth,
            design=StudyDesign.from_dict(meta["design"]),
            seed=int(meta["seed"]),
        )

    def roundtrip(self) -> SimulatedStudy:
        """This study as it reads back from its CSV/JSON files (4-decimal floats)."""
        frames = {name: read_csv(io.StringIO(to_csv(df))) for name, df in self.tables().items()}
        return SimulatedStudy(
            therapists=frames["therapists"],
            clients=frames["clients"],
            sessions=frames["sessions"],
            ratings=frames.get("ratings"),
            moments=frames.get("moments"),
            truth=loads(dumps(self.truth)),
            design=self.design,
            seed=self.seed,
        )


def to_csv(frame: pd.DataFrame) -> str:
    """CSV text of a study table as :meth:`SimulatedStudy.write` writes it."""
    return frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def read_csv(source: str | Path | io.StringIO) -> pd.DataFrame:
    """Read a study table: id columns as strings, ``session``/``moment`` as int64."""
    header = pd.read_csv(source, nrows=0).columns
    if isinstance(source, io.StringIO):
        source.seek(0)
    dtype: dict[str, Any] = {c: "str" for c in header if c in _STRING_COLUMNS}
    dtype.update({c: "int64" for c in header if c in _INT_COLUMNS})
    return pd.read_csv(source, dtype=dtype)


def _json_bytes(obj: Any) -> bytes:
    return (dumps(obj, indent=2) + "\n").encode("utf-8")


# --- simulation ------------------------------------------------------------------------


def streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per component of the study (see :data:`STREAMS`)."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }


def _check_inputs(design: StudyDesign | None, seed: Any) -> tuple[StudyDesign, int]:
    design = StudyDesign() if design is None else design
    if not isinstance(design, StudyDesign):
        raise ConfigError(f"design must be a StudyDesign, got {type(design).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    return design, int(seed)


def simulate_study(design: StudyDesign | None = None, seed: int = 0) -> SimulatedStudy:
    """Simulate one study with known truth.

    Parameters
    ----------
    design
        The generating design (default: :class:`StudyDesign` defaults).
    seed
        Non-negative integer. Same design and seed give identical frames.

    Returns
    -------
    SimulatedStudy
        Tables and ``truth``, a JSON-serializable dict with keys:

        ``variance``
            ``{measure: {"sd_therapist", "sd_client", "sigma", "share_therapist",
            "share_client", "share_residual", "Intercept"}}`` for the client-rated session
            measures and ``empathy`` (population values; shares of the sum of the three
            variances).
        ``raters``
            Rater offsets, cross-rater correlations at each level, and the variance
            partition of every rater's measures.
        ``contributions``
            Alliance -> session outcome: ``beta_therapist``, ``beta_client``,
            ``beta_session``, ``beta_therapist_minus_client``, ``share_therapist_predictor``.
        ``contributions_client``
            Alliance -> ``post_outcome`` (same keys; ``share_therapist_predictor`` is the
            therapist share of the client's latent mean alliance).
        ``moderation``
            ``slope[subcomponent][intervention]``, ``contrast[subcomponent]["MI_minus_ERP"]``
            and ``marginal`` (what a model linear in the subcomponents recovers while the
            form term is on).
        ``form``
            ``form``, ``beta_linear``, ``beta_quadratic``, ``vertex``,
            ``slope_below_vertex``, ``slope_above_vertex`` and more, plus ``marginal``
            (what an empathy-only model recovers while the moderation term is on).
        ``outcome``, ``post_outcome``
            Intercepts, covariate slopes and random-effect SDs.
        ``circuit``
            ``phi_cc``, ``phi_tt``, ``phi_ct``, ``phi_tc_mean``, ``sd_phi_tc``,
            ``gamma_affect_sharing``, ``throttle``, ``innovation_corr``, ``sigma_client``,
            ``sigma_therapist``, ``phi_tc`` per therapist and phase, and more.
        ``clipped``, ``missing``, ``n_rows``, ``seed``
            Bookkeeping.
    """
    d, seed = _check_inputs(design, seed)
    rng = streams(seed)
    layout = Layout.of(d)
    levels = draw_levels(d, layout, rng)
    ratings = session_ratings(d, layout, levels)
    session = session_outcome(d, layout, levels, ratings, rng["outcome"], rng["missing_outcomes"])
    circuit = circuit_parameters(d, layout, levels, rng["circuit"])
    post = post_outcome(d, layout, levels, session, circuit.throttle, rng["post_outcome"])

    labels = id_labels(d)
    moments, n_deleted = None, 0
    if layout.moments_per_session > 0:
        affect, phases = moment_affect(d, layout, circuit, rng["moments"])
        keep = None
        if d.missing_moment_rate > 0:
            rows = layout.n_sessions * layout.moments_per_session
            keep = rng["missing_moments"].random(rows) >= d.missing_moment_rate
            n_deleted = int(rows - keep.sum())
        moments = moments_table(layout, affect, phases, labels, keep)
    ratings_df = ratings_table(layout, ratings, labels) if d.include_ratings else None

    n_rows = {
        "therapists": layout.n_therapists,
        "clients": layout.n_clients,
        "sessions": layout.n_sessions,
        "ratings": 0 if ratings_df is None else len(ratings_df),
        "moments": 0 if moments is None else len(moments),
    }
    missing = {"moments_deleted": n_deleted, "outcomes_missing": session.n_missing}
    ids = labels["therapist"].tolist()
    return SimulatedStudy(
        therapists=therapists_table(layout, levels, labels),
        clients=clients_table(layout, levels, post, labels),
        sessions=sessions_table(layout, levels, ratings, session.outcome, labels),
        ratings=ratings_df,
        moments=moments,
        truth=study_truth(d, seed, ids, circuit, ratings, missing, n_rows),
        design=d,
        seed=seed,
    )


# --- the shipped study -----------------------------------------------------------------


def _repository_data() -> Path:
    return Path(__file__).resolve().parents[3] / "data" / "simulated_study"


def shipped_study_path() -> Path | None:
    """Path of the repository's ``data/simulated_study`` if present, else ``None``."""
    path = _repository_data()
    return path if (path / "sessions.csv").is_file() and (path / "design.json").is_file() else None


def load_shipped_study() -> SimulatedStudy:
    """The shipped study: read from ``data/simulated_study``, or regenerated from its seed.

    When the package is installed without the repository the study is simulated in memory
    (seed ``SHIPPED_SEED``, :func:`shipped_design`) and passed through the same CSV
    formatting, so both routes give the same values.
    """
    path = shipped_study_path()
    if path is not None:
        return SimulatedStudy.read(path)
    return simulate_study(shipped_design(), seed=SHIPPED_SEED).roundtrip()


def write_shipped_study(directory: str | Path | None = None) -> Path:
    """(Re)write the shipped study and its data card (default: ``<repo>/data/simulated_study``)."""
    directory = _repository_data() if directory is None else directory
    study = simulate_study(shipped_design(), seed=SHIPPED_SEED)
    return study.write(directory, data_card=True, command=SHIPPED_COMMAND)


__all__ = [
    "FLOAT_FORMAT",
    "STREAMS",
    "SimulatedStudy",
    "load_shipped_study",
    "read_csv",
    "shipped_study_path",
    "simulate_study",
    "streams",
    "to_csv",
    "write_shipped_study",
]
