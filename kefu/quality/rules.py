"""What quality inspection declares (issue 22): its section of the handbook policy (the word lists,
the points per hit, the daily sample), who reviews and appeals, the R-QA rules and the verbs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.core.rulebook import Capability, ModuleRules, Name, Section, Verbs, setting, whole, words
from kefu.org.rules import TEAM_LEADS


class QualityPolicy(Section):
    title = _("Quality inspection")
    forbidden_words: Annotated[tuple[str, ...], words(20)] = setting(_("Forbidden words"), rule="R-QA-1", kind="list")
    promise_words: Annotated[tuple[str, ...], words(20)] = setting(_("Over-promise words"), rule="R-QA-1", kind="list")
    greeting_words: Annotated[tuple[str, ...], words(20)] = setting(_("Greeting words"), rule="R-QA-1", kind="list")
    soothing_words: Annotated[tuple[str, ...], words(20)] = setting(_("Soothing words"), rule="R-QA-1", kind="list")
    upset_emotions: Annotated[tuple[str, ...], words(20)] = setting(rule="R-QA-1", editable=False)
    points_per_hit: Annotated[int, whole(0, 100)] = setting(_("Score points per hit"), rule="R-QA-1")
    sample_per_agent: Annotated[int, whole(0, 50)] = setting(_("Random sample per agent and day"), rule="R-QA-2")
    point_item: Name = setting(_("Points item for a confirmed hit"), rule="R-QA-2", kind="text")

    def cross_checks(self) -> Iterable[tuple[str, str]]:
        for name in ("forbidden_words", "promise_words", "greeting_words", "soothing_words"):
            if not getattr(self, name):
                yield name, gettext("at least one word")


class Verb(Verbs):
    HIT_CONFIRMED = "qa_hit.confirmed", _("confirmed a quality hit")
    HIT_DISMISSED = "qa_hit.dismissed", _("dismissed a quality hit")
    HIT_POINTS = "qa_hit.points", _("recorded a quality hit as points")
    HIT_APPEALED = "qa_hit.appealed", _("appealed a quality hit")
    HIT_APPEAL_DECIDED = "qa_hit.appeal_decided", _("decided an appeal")
    SAMPLE_REVIEWED = "qa_sample.reviewed", _("reviewed a sampled conversation")


RULES = ModuleRules(
    module="quality",
    order=96,
    policy={"quality": QualityPolicy},
    capabilities={
        "quality.review": Capability(
            TEAM_LEADS, _("review the daily quality inspection: confirm or dismiss hits, decide appeals (their teams)")
        ),
    },
    rules={
        "R-QA-1": _(
            "Quality inspection of every conversation: forbidden words, over-promises, slow replies, unanswered "
            "buyers, no greeting, no soothing for an upset buyer; a day's score per agent is 100 − points per hit."
        ),
        "R-QA-2": _(
            "Daily inspection: hits first, then a random sample per agent; confirmed hits become points with the "
            "conversation as evidence; the agent may appeal once; the results go to the daily summary."
        ),
    },
    verbs=Verb,
)
