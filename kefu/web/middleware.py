"""Page-side safety nets: a refused or malformed request is a friendly page with its status (never a
500), and every response carries the security headers (CSP; no caching of personal pages)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kefu.core.errors import ApplicationError

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class PageErrorMiddleware:
    """An ``ApplicationError`` that reaches a page view's edge (a bad cursor, a malformed date, a
    refused action) becomes the error page with the error's status and its message; the API has
    its own handler with the one JSON error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, ApplicationError) or request.path.startswith("/api/"):
            return None
        if exc.status == 404:
            raise Http404("not found") from exc
        return render(request, "web/error.html", {"message": str(exc.message)}, status=exc.status)


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
