"""Mapping of data roles onto the user's column names."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

ID_ROLES = (
    "therapist",
    "client",
    "session",
    "moment",
    "intervention",
    "phase",
    "rater",
    "target",
    "item",
    "group",
    "responder",
    "prompt",
    "condition",
)


@dataclass(frozen=True)
class Roles:
    """Which column of the user's data plays which role.

    Every role defaults to a column of the same name; pass another name to map a column
    onto a role, or ``None`` to say the data has no such role.

    Parameters
    ----------
    therapist, client, session, moment, intervention, phase, rater
        Column names.
    target, item, group
        Rating designs (:class:`~empathy_models.RaterAgreement`): what is rated (a session,
        a response, a therapist), the item of a multi-item scale, and a group of targets or
        of raters (e.g. the rater's perspective: client, therapist, observer).
    responder, prompt, condition
        Responder comparisons (:class:`~empathy_models.ResponderComparison`): who answered
        (a language model, a trainee), the prompt answered (a client statement), and the
        condition of the answer (e.g. before / after training material); ``group`` is then
        the responder's group (e.g. LLM, trainee).
    crossed
        Declare that clients may see several therapists (a crossed design). Without it a
        client under two therapists is a data error.

    Examples
    --------
    >>> Roles(therapist="tid", client="pid", session="visit")
    Roles(therapist='tid', client='pid', session='visit', ...)
    """

    therapist: str | None = "therapist"
    client: str | None = "client"
    session: str | None = "session"
    moment: str | None = "moment"
    intervention: str | None = "intervention"
    phase: str | None = "phase"
    rater: str | None = "rater"
    crossed: bool = False
    target: str | None = "target"
    item: str | None = "item"
    group: str | None = "group"
    responder: str | None = "responder"
    prompt: str | None = "prompt"
    condition: str | None = "condition"

    def column(self, role: str) -> str | None:
        """Column name mapped to ``role`` (``None`` when the role is switched off)."""
        if role not in ID_ROLES:
            raise KeyError(f"unknown role {role!r}; roles are {', '.join(ID_ROLES)}")
        return getattr(self, role)

    def to_dict(self) -> dict:
        """Plain dict, for storing with results."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Roles:
        """Inverse of :meth:`to_dict` (unknown keys are an error)."""
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise KeyError(f"unknown role keys {sorted(unknown)}")
        return cls(**d)

    def __repr__(self) -> str:
        inner = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return f"Roles({inner})"
