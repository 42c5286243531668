from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

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


class LanguageMiddleware:
    """Chinese first: the language the user chose (cookie set by the switcher), else zh-Hans.

    Unlike Django's LocaleMiddleware the browser's Accept-Language is not consulted: the
    department works in Chinese whatever language a workstation's browser is set to.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = (
            chosen
            if translation.check_for_language(chosen) and chosen in dict(settings.LANGUAGES)
            else settings.LANGUAGE_CODE
        )
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response
