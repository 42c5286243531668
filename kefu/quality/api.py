"""Quality inspection's API (issue 22): a day's hits and the agents' scores, inside the caller's scope."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from kefu.core import clock
from kefu.core.params import Day
from kefu.policies.quality import RULE

from . import selectors

router = Router(tags=["quality"])


class HitOut(Schema):
    employee_no: str
    conversation: int
    kind: str
    rule: str
    message: int
    text: str
    status: str


class ScoreOut(Schema):
    employee_no: str
    score: int


class HitsOut(Schema):
    date: str
    hits: list[HitOut]
    scores: list[ScoreOut]


@router.get("/quality/hits", response=HitsOut)
def get_hits(request: HttpRequest, date: Day | None = None, team: int | None = None) -> object:
    """R-QA-1's hits of a day (``kind``: forbidden_word, over_promise, slow_reply, unanswered,
    no_greeting, rude_to_upset_buyer; ``employee_no`` empty when no agent is to blame; ``status``:
    open, confirmed or dismissed) and each agent's score (100 − the points of the hits not
    dismissed). A team lead reads their teams, an agent their own hits; a team outside the caller's
    scope is a 404. Without ``date``: yesterday."""
    if team is not None:
        from kefu.org.selectors import access_team_by_id

        access_team_by_id(request.user, team)
    if date is None:
        date = clock.today() - dt.timedelta(days=1)
    found = selectors.hits(actor=request.user, day=date, team=team)
    return {
        "date": date.isoformat(),
        "hits": [
            {
                "employee_no": h.staff.employee_no if h.staff is not None else "",
                "conversation": h.conversation_id,
                "kind": h.kind,
                "rule": RULE,
                "message": h.message_id,
                "text": h.text,
                "status": h.verdict,
            }
            for h in found
        ],
        "scores": [
            {"employee_no": no, "score": s}
            for no, s in selectors.scores(actor=request.user, day=date, team=team, found=found).items()
        ],
    }
