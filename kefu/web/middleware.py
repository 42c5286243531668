"""Page-side safety nets: a refused or malformed request is a friendly page with its status (never a
500), and every response carries the security headers (CSP; no caching of personal pages)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _

from kefu.core.errors import ApplicationError, database_unreachable
from kefu.core.params import PER_ITEM_PATHS

from .errors import api_error, error_page, unavailable

log = logging.getLogger("kefu.web")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


# a JSON \\ud800-\\udfff escape that is not half of a pair: text no database can store (a byte-level
# first line for any JSON body; the API's parser checks the parsed strings as well)
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


class RejectNulMiddleware:
    """A NUL character in a parameter, form field or JSON string is never meaningful, and PostgreSQL
    refuses it in text: the request is a 400 (the API's error shape, or the error page) before any
    view sees it: query strings, form fields (URL-encoded or multipart) and JSON bodies. Uploaded
    files may hold NULs; they are their views' to check."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            bad = self._has_nul(request)
            message = _("The request contains a character that is not allowed.")
        except (MultiPartParserError, UnicodeDecodeError, ValueError):
            bad, message = True, _("The request is malformed.")
        if bad:
            if request.path.startswith("/api/"):
                return api_error(400, str(message))
            return render(request, "web/error.html", {"message": message}, status=400)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, vs in request.GET.lists() for v in vs):
            return True
        content_type = request.content_type or ""
        if content_type == "application/json" and request.path.startswith(PER_ITEM_PATHS):
            return False  # a batch of messages: a NUL fails its one message, reported by index
        if content_type == "application/json":
            body = request.body
            return b"\\u0000" in body or b"\x00" in body or _LONE_SURROGATE.search(body) is not None
        # a page's multipart form's text fields too (its files may hold NULs: they are the views'
        # to check); Django parses the body once and the view reads the same fields and files. The
        # API's uploads read their raw body, which parsing here would consume: they check their own.
        multipart = content_type == "multipart/form-data" and not request.path.startswith("/api/")
        if request.method == "POST" and (content_type == "application/x-www-form-urlencoded" or multipart):
            return any("\x00" in k or "\x00" in v for k, vs in request.POST.lists() for v in vs)
        return False


class PageErrorMiddleware:
    """An ``ApplicationError`` that reaches a page view's edge (a bad cursor, a malformed date, a
    refused action) becomes the error page with the error's status and its message; the API has
    its own handler with the one JSON error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not request.path.startswith("/api/") and not response.content:
            return error_page(request, 405)  # a wrong method on a page: a page, not an empty body
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if database_unreachable(exc):
            log.warning("503 %s %s: the database is unreachable (%s)", request.method, request.path, exc)
            return unavailable(request)
        if isinstance(exc, DjangoPermissionDenied):
            # An ordinary refusal: one line in the log, not a traceback.
            log.info("403 %s %s (%s)", request.method, request.path, exc)
            return error_page(request, 403)
        if not isinstance(exc, ApplicationError) or request.path.startswith("/api/"):
            return None
        if exc.status == 404:
            raise Http404("not found") from exc
        return error_page(request, exc.status, str(exc.message))


class ApiErrorShapeMiddleware:
    """Answers under /api/ that did not come from an API view (an unknown method on a known path,
    Django's CSRF refusal) get the API's one JSON error shape instead of an HTML page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            title = {404: _("Not found"), 405: _("This address does not accept this kind of request.")}
            shaped = api_error(response.status_code, str(title.get(response.status_code, response.reason_phrase)))
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response


class SecurityHeadersMiddleware:
    """Content-Security-Policy on every page; ``Cache-Control: no-store`` on everything a signed-in
    person sees (their pages and exports hold personal data) and on every API answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/v1/docs"):
            pass  # the interactive docs load their own scripts
        else:
            response.headers.setdefault("Content-Security-Policy", CSP)
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or (user is not None and user.is_authenticated):
            response.headers["Cache-Control"] = "no-store, private"
        return response


class ReleaseConnectionsForStreamsMiddleware:
    """Outermost: a request served by Django's ASGI handler (the desk's live feed, ADR 0018) hands back
    the database connections its request thread opened before the response leaves — a stream before
    it starts streaming, a refusal (302, 404) at once. Django's ASGI handler gives each request a
    thread of its own and keeps its connection until the response ends or the thread is collected:
    1,000 open pages (or a flood of refused stream requests) would exhaust PostgreSQL. The stream
    reads on its own pool."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.core.handlers.asgi import ASGIRequest

        try:
            return self.get_response(request)
        finally:
            # every request Django's ASGI handler serves (only the live stream is routed there)
            # hands its thread's connections back, whatever the answer: a 302, a 404, a 500 …
            if isinstance(request, ASGIRequest):
                from django.db import connections

                for conn in connections.all(initialized_only=True):
                    if not conn.in_atomic_block:
                        conn.close()
