"""Error pages inside the app's layout (400/403/404/500), and the API's one JSON shape for the same
statuses, so neither a person nor an integrator ever meets Django's default pages."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

from kefu.core.errors import RETRY_AFTER_SECONDS

log = logging.getLogger("kefu.web")


CODES = {
    400: "validation_error",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    503: "unavailable",
}


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, message: str, code: str | None = None) -> JsonResponse:
    body = {"error": {"code": code or CODES.get(status, "server_error"), "message": message, "details": None}}
    return JsonResponse(body, status=status)


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Request not valid"), _("Part of the request is not valid. Go back and check what you entered.")),
        403: (_("Not allowed"), _("Your role does not allow this. Ask your supervisor if you need it.")),
        404: (_("Not found"), _("This page or record does not exist, or it is outside your scope.")),
        405: (_("Not allowed"), _("This address does not accept this kind of request.")),
        500: (_("Something went wrong"), _("The server could not finish this request. It has been logged; try again.")),
        503: (
            _("Briefly unavailable"),
            _("The database cannot be reached at the moment. Nothing was saved; try again in a few seconds."),
        ),
    }


def error_page(request: HttpRequest, status: int, message: str | None = None) -> HttpResponse:
    """The error page in the layout, or the JSON shape under /api/. The layout reads the session
    and the user: with the database unreachable that fails again, and the plain page (no layout, no
    context processors) answers 503 with Retry-After instead of a 500."""
    from django.db import DatabaseError

    from kefu.core.errors import database_unreachable

    title, default = _messages().get(status, _messages()[400])
    if is_api(request):
        return api_error(status, message or default)
    try:
        return render(request, "web/error.html", {"title": title, "message": message or default}, status=status)
    except DatabaseError as exc:
        if not database_unreachable(exc):
            raise
        return _plain_unavailable()


def _plain_unavailable() -> HttpResponse:
    title, message = _messages()[503]
    html = loader.get_template("web/error_plain.html").render({"title": title, "message": message})
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return error_page(request, 403)


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return error_page(request, 404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without (or with a stale) CSRF token: the 403 page in the layout, or JSON."""
    message = _("This form expired or was not sent from Kefu. Reload the page and send it again.")
    if is_api(request):
        return api_error(403, message, code="permission_denied")
    return error_page(request, 403, message)


def server_error(request: HttpRequest) -> HttpResponse:
    """No context processors that could fail again: a plain render of the layout-less error page.
    A database that cannot be reached (met anywhere: the session, the user, a middleware) is a 503
    with Retry-After, never a 500."""
    import sys

    from kefu.core.errors import database_unreachable

    failure = sys.exc_info()[1]
    if failure is not None and database_unreachable(failure):
        if is_api(request):
            response = api_error(503, _messages()[503][1], code="unavailable")
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return _plain_unavailable()
    title, message = _messages()[500]
    if is_api(request):
        return api_error(500, message, code="server_error")
    try:
        return render(request, "web/error.html", {"title": title, "message": message}, status=500)
    except Exception:  # the layout itself failed (e.g. the database is down)
        log.exception("error page failed")
        html = loader.get_template("web/error_plain.html").render({"title": title, "message": message})
        return HttpResponse(html, status=500)


def unavailable(request: HttpRequest) -> HttpResponse:
    """The database cannot be reached (a restart, a fail-over): 503 with Retry-After, nothing half
    done (the request's transaction never committed) — never a 500 for what is not a bug."""
    response = error_page(request, 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
