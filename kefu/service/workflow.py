"""Service requests on the shared workflow core (ADR 0010): categories, transitions, R-SVC-6's
on-site timer and the technician's visit checklist (seed 003: 5个1, 九不准, the visit procedure)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.policy_store import policy_in_force
from kefu.workflow.registry import Workflow

from .models import RequestCategory as Cat

VISIT_CHECKLIST = (
    ("greet", _("Greeting at the door; show the work card and the work order (5个1: 一句问候语)")),
    ("shoe_covers", _("Shoe covers on before entering (5个1: 一双鞋套)")),
    ("cloth", _("A clean cloth at hand (5个1: 一块洁净布)")),
    ("verify", _("Brand and model checked, serial no. and purchase date recorded")),
    ("diagnose", _("Fault observed and asked about; our product's fault or an outside cause judged")),
    ("consent", _("The customer agreed before furniture was moved or parts were replaced")),
    ("clean_unit", _("The unit cleaned inside and out after the repair (5个1: 一次美容)")),
    ("tidy", _("Site tidied; the result and everyday use explained")),
    ("work_order", _("The customer's opinion asked and the work order filled in; a receipt for paid repairs")),
    ("farewell", _("Farewell words and a service card left (5个1: 一张名片)")),
    ("nine_rules", _("The nine don'ts kept (九不准: no arguing, no drinking, no meals, no smoking …)")),
)

REQUESTS = Workflow(
    capability="service.visit",
    key="service.request",
    label=_("Service requests"),
    model="service.ServiceRequest",
    categories=Cat,
    transitions={
        Cat.NEW: frozenset({Cat.SCHEDULED, Cat.CLOSED}),
        Cat.SCHEDULED: frozenset({Cat.NEW, Cat.ON_SITE, Cat.CLOSED}),
        Cat.ON_SITE: frozenset({Cat.SCHEDULED, Cat.SIGNED}),
        Cat.SIGNED: frozenset({Cat.SETTLED}),
        Cat.SETTLED: frozenset({Cat.CLOSED}),
        Cat.CLOSED: frozenset({Cat.NEW}),
    },
    default_labels=(
        ("待评估", Cat.NEW, True),
        ("已预约", Cat.SCHEDULED, True),
        ("上门服务中", Cat.ON_SITE, True),
        ("客户已验收", Cat.SIGNED, True),
        ("已结算", Cat.SETTLED, True),
        ("已回访关闭", Cat.CLOSED, True),
    ),
    initial=Cat.NEW,
    done=frozenset({Cat.CLOSED}),
    closed=Cat.CLOSED,
    event_prefix="service_request",
    assignee_field="technician",
    deadline_fields=("sla_due_at",),
    deadline_met_by={"sla_due_at": "on_site_at"},  # R-SVC-6: on site in time meets the commitment
    # R-SVC-6: a technician on site within the policy's hours of the request (cleared on arrival)
    sla_hours=lambda item: int(policy_in_force().service.on_site_hours),
    checklist=lambda item: VISIT_CHECKLIST,
)
