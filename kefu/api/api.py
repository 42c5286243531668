"""The JSON API under /api/v1/: one error shape, token or session auth, cursor pagination."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from kefu.core import plugins
from kefu.core.errors import RETRY_AFTER_SECONDS, ApplicationError, database_unreachable
from kefu.core.params import PER_ITEM_PATHS, utf8_storable

from .auth import AUTH


class StorableTextParser(Parser):
    """JSON bodies whose every string a database can store: a lone UTF-16 surrogate ("\\ud800", also
    behind an escaped backslash or under another content type) is a 400 here, never a 500 at the
    INSERT. Batches validated item by item (the desk's messages) report it for that item instead."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        if not request.path.startswith(PER_ITEM_PATHS) and not _storable(data):
            raise ApplicationError("validation_error", _("The request contains a character that is not allowed."))
        return data


def _storable(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return utf8_storable(value)
    if depth > 64:
        return False
    if isinstance(value, dict):
        return all(_storable(k, depth + 1) and _storable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v, depth + 1) for v in value)
    return True


api = NinjaAPI(
    title="Kefu API",
    parser=StorableTextParser(),
    version="1.0.0",
    description='客服运营系统 JSON API. Errors: {"error": {"code", "message", "details"}}. '
    "Lists use cursor pagination: pass `cursor` from `next_cursor`.",
    auth=AUTH,
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, code: str, message: str, details: object = None) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": message, "details": details}}, status=status
    )


@api.exception_handler(DatabaseError)
def _database(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    """A database that cannot be reached is a 503 with Retry-After; any other database error is a bug."""
    if not database_unreachable(exc):
        raise exc
    message = _("The database cannot be reached; try again in a few seconds.")
    response = _error(request, 503, "unavailable", str(message))
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return _error(request, exc.status, exc.code, str(exc.message), exc.details)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found"))


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # A malformed parameter, cursor, date, amount or body is a 400 in the one error shape.
    return _error(request, 400, "validation_error", _("The request is not valid."), exc.errors)


@api.exception_handler(OverflowError)
def _overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    """An integer or date parameter beyond what the database holds (SQLite raises at query time)."""
    return _error(request, 400, "validation_error", _("A parameter is out of range."))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", _("Sign in or send an API token."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 403:  # ninja's CSRF refusal for session-authenticated calls
        return _error(request, 403, "permission_denied", _("The CSRF check failed: send the X-CSRFToken header."))
    if exc.status_code == 405:
        return _error(request, 405, "method_not_allowed", _("This address does not accept this kind of request."))
    if exc.status_code == 400:  # ninja could not parse the body ("Cannot parse request body")
        return _error(request, 400, "validation_error", _("The body is not valid JSON."))
    return _error(request, exc.status_code, "http_error", str(exc))


for router in plugins.api_routers():  # each app registers its router in its AppConfig
    api.add_router("/", router)


@api.get("/", auth=None, tags=["meta"], summary="API index")
def index(request: HttpRequest) -> dict[str, str]:
    return {"name": "Kefu API", "version": api.version, "openapi": "/api/v1/openapi.json", "docs": "/api/v1/docs"}
