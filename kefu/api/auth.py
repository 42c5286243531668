"""API authentication: personal tokens (Bearer) for integrations, the session (with CSRF) for the browser."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from kefu.core import throttle
from kefu.core.context import client_ip
from kefu.org.services import token_authenticate, token_remembered


class TokenAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_remembered(token)  # checked a moment ago in this process: no database, no counter
        if user is not None:
            request.user = user
            return user
        if throttle.token_locked(token):
            return None
        user = token_authenticate(token)
        if user is None:
            throttle.token_failed(token, client_ip(request))  # audited, counted against that token
            return None
        request.user = user
        return user


class BrowserSession(SessionAuth):
    """Session auth; ninja checks the CSRF token on unsafe methods. A call that sends an
    ``Authorization`` header stands or falls with its token: a bad token is a 401, not a CSRF
    refusal of the session it never meant to use."""

    def __call__(self, request: HttpRequest) -> Any:
        if request.headers.get("Authorization"):
            return None
        return super().__call__(request)


AUTH = [TokenAuth(), BrowserSession()]
