"""What the organisation declares (issue 19): who manages it, the R-ORG rules and its verbs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.rulebook import (
    Capability,
    ModuleRules,
    Verbs,
)
from kefu.org.models import Position

# the position groups the modules' capabilities are held by
LEADS = frozenset({Position.SUPERVISOR, Position.DEPUTY})
TEAM_LEADS = LEADS | {Position.TEAM_LEAD}


class Verb(Verbs):
    SHOP_CREATED = "shop.created", _("created the shop")
    TEAM_CREATED = "team.created", _("created the team")
    TEAM_SHOPS_SET = "team.shops_set", _("set the team's shops")
    STAFF_CREATED = "staff.created", _("added the staff member")
    STAFF_UPDATED = "staff.updated", _("updated the staff member")
    USER_CREATED = "user.created", _("created a sign-in")
    TOKEN_CREATED = "token.created", _("created an API token")
    TOKEN_REVOKED = "token.revoked", _("revoked an API token")
    STAFF_LEAVE_DATE_SET = "staff.leave_date_set", _("set the leaving date")
    STAFF_LEFT = "staff.left", _("left the department (leaving date passed)")
    IMPORT_STAFF = "import.staff", _("imported the staff file")


RULE_TEXTS = {
    "R-ORG-1": _("Pre-sales owns a customer until the order ships; after-sales from shipment on."),
    "R-ORG-2": _("Agents and team leads see their team's shops; supervisors see everything."),
}


RULES = ModuleRules(
    module="org",
    order=10,
    capabilities={"org.manage": Capability(LEADS, _("read everything, manage the organisation"))},
    rules=RULE_TEXTS,
    verbs=Verb,
)
