"""What staffing declares (issue 22, begun): the rule it implements so far. Its policy section
(concurrency, service level, shrinkage) and capabilities come with the forecast and the roster."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.rulebook import ModuleRules

RULES = ModuleRules(
    module="staffing",
    order=95,
    rules={
        "R-WFM-2": _(
            "Required agents per hour by Erlang C for chat: slots to answer X % within T seconds, "
            "agents at c sessions each, rostered heads after shrinkage."
        ),
    },
)
