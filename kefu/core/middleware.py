from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import context


class RequestContextMiddleware:
    """Remember the request's actor and address for the audit trail of this request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = context.set_request(request)
        try:
            return self.get_response(request)
        finally:
            context.reset(token)
