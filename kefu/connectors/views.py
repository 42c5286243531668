"""The connectors' health page (issue 21 §1): last success, lag, errors, "sync now"; one connector's
runs; renewing its keys (the supervisor)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import clock
from kefu.core.errors import ApplicationError
from kefu.core.params import parse_moment
from kefu.org.permissions import has_capability
from kefu.web.http import form_post, require_capability

from . import selectors, services
from .models import Connector


@login_required
def health_page(request: HttpRequest) -> HttpResponse:
    require_capability(request, "connectors.view")
    return render(
        request,
        "connectors/health.html",
        {
            "rows": selectors.health(actor=request.user),
            "now": clock.now(),
            "can_manage": has_capability(request.user, "connectors.manage"),
        },
    )


@login_required
def connector_page(request: HttpRequest, connector_id: int) -> HttpResponse:
    require_capability(request, "connectors.view")
    connector = selectors.connector_get(actor=request.user, connector_id=connector_id)
    return render(
        request,
        "connectors/connector.html",
        {
            "connector": connector,
            "runs": selectors.runs(actor=request.user, connector=connector),
            "can_manage": has_capability(request.user, "connectors.manage"),
        },
    )


def _queue(request: HttpRequest, connector: Connector) -> Connector:
    from .tasks import connector_sync_task

    user_id = request.user.pk
    transaction.on_commit(lambda: connector_sync_task(connector.pk, "manual", user_id))
    return connector


@login_required
@require_POST
def sync_now(request: HttpRequest, connector_id: int) -> HttpResponse:
    require_capability(request, "connectors.view")
    connector = selectors.connector_get(actor=request.user, connector_id=connector_id)
    return form_post(
        request,
        lambda: _queue(request, connector),
        then=redirect("connectors:connector", connector.pk),
        done=_("The sync has started; its run appears below."),
    )


@login_required
@require_POST
def keys(request: HttpRequest, connector_id: int) -> HttpResponse:
    connector = selectors.connector_get(actor=request.user, connector_id=connector_id)  # 404 outside scope first
    require_capability(request, "connectors.manage")
    post = request.POST

    def save() -> Connector:
        expires = post.get("session_expires_at", "").strip()
        try:
            expires_at = parse_moment(expires) if expires else None
        except ValueError as exc:
            raise ApplicationError("connector", _("Session expires: %(error)s") % {"error": exc}) from None
        return services.connector_update(
            actor=request.user,
            connector=connector,
            app_secret=post.get("app_secret", "").strip() or None,
            session=post.get("session", "").strip() or None,
            session_expires_at=expires_at,
            # the form sends a hidden "0" and, when ticked, the box's "1": ticked wins
            enabled=("1" in post.getlist("enabled")) if "enabled" in post else None,
        )

    return form_post(request, save, then=redirect("connectors:connector", connector.pk), done=_("Saved."))
