"""Small helpers every module's views share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe

from kefu.core import plugins
from kefu.core.errors import ApplicationError
from kefu.org.permissions import has_capability


def require_capability(request: HttpRequest, capability: str) -> None:
    """Pages that need a capability answer 403 (they show no object, so nothing leaks)."""
    if not has_capability(request.user, capability):
        raise PermissionDenied(capability)


def show_error(request: HttpRequest, exc: ApplicationError) -> None:
    """A refused action becomes a message on the next page; "not found" stays a 404."""
    if exc.status == 404:
        raise Http404("not found")
    messages.error(request, str(exc.message))


def form_post(
    request: HttpRequest,
    act: Callable[[], Any],
    *,
    then: HttpResponse | Callable[[Any], HttpResponse],
    done: Any = None,
    failed: HttpResponse | Callable[[], HttpResponse] | None = None,
) -> HttpResponse:
    """The one way a page takes a form post (issue 19): run the action (reading the form's values
    inside ``act``, so a malformed amount is refused like the action's own refusals); a refusal
    (``ApplicationError``) becomes the page's message — or, for an htmx request, the answer's text
    with its status — and success says ``done``.

    ``then``: where to go, or a function of the action's result (the new record's page); ``done``:
    the message, or a function of the result; ``failed``: the answer to a refusal (a form shown again
    with what was typed) — by default ``then`` when it is a response, else the error page with the
    refusal's status (an endpoint only htmx calls)."""
    try:
        result = act()
    except ApplicationError as exc:
        htmx = getattr(request, "htmx", None)
        if htmx and not htmx.boosted and exc.status != 404:
            return HttpResponse(str(exc.message), status=exc.status, content_type="text/plain; charset=utf-8")
        if failed is None:
            if not isinstance(then, HttpResponse):
                raise  # no page to show it on: the error page with its status (an htmx-only endpoint)
            failed = then
        show_error(request, exc)
        return failed() if callable(failed) else failed
    text = done(result) if callable(done) else done
    if text:
        messages.success(request, text)
    return then(result) if callable(then) else then


def row_url_base(name: str) -> str:
    """The address of a list's rows without their id ("/aftersales/" for ``aftersales:case``), so a
    template writes ``{{ base }}{{ c.pk }}/`` instead of reversing the same route for every row
    (50 reverses were a tenth of a list's CPU)."""
    url = reverse(name, args=[0])
    if not url.endswith("/0/"):
        raise ValueError(f"{name} does not end with its id")
    return url[:-2]


def render_page_or_partial(request: HttpRequest, template: str, partial: str, ctx: dict[str, Any]) -> HttpResponse:
    """Full page normally; only the named partial for an htmx request that targets it."""
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted:
        return render(request, f"{template}#{partial}", ctx)
    return render(request, template, ctx)


def render_panels(request: HttpRequest, page: str, obj: Any) -> list[str]:
    """The blocks other modules add to this page (``core.plugins.panel``), rendered in order."""
    rendered = []
    for panel in plugins.panels(page):
        ctx = panel.context(request, obj)
        if ctx is not None:
            rendered.append(render_to_string(panel.template, ctx, request=request))
    return [mark_safe(html) for html in rendered]


def redirect_next(request: HttpRequest, default: str) -> HttpResponse:
    """Redirect to the form's ``next`` when it is a path on this site, else to ``default`` (no open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return redirect(target if is_local_path(request, target) else default)


def is_local_path(request: HttpRequest, target: str) -> bool:
    """A path on this site ("/orders/1/"): never another host, and never a bare word that
    ``redirect`` would look up as a view name (``next=NaN`` answered 500 after the action was saved)."""
    return (
        target.startswith("/")
        and not target.startswith("//")
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False)
    )


EXPORT_CAP = 100_000  # rows in one list export; the page says so when a list is longer


def xlsx_download(filename: str, title: str, headers: list[Any], rows: Iterable[Iterable[Any]]) -> HttpResponse:
    """A filtered list as an XLSX download, as people want it in Excel (``core.exports.write_table``):
    a frozen, filtered header row in words, fitted columns, amounts (``Decimal``) as ¥ numbers and
    rates (``exports.Rate``) as percentages, Excel-safe text; written row by row (write-only mode)."""
    import io

    import openpyxl

    from kefu.core.exports import write_table

    workbook = openpyxl.Workbook(write_only=True)
    write_table(workbook.create_sheet(str(title)[:31]), headers, rows)
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def local_time(moment: Any) -> str:
    """A stored time as people read it in a spreadsheet (``clock.local_text``)."""
    from kefu.core import clock

    return clock.local_text(moment)


class FormOnce:
    """One effect per rendered form (a double click, three tabs submitting the same create form): the
    form carries a token (``form_token``, a fresh one per render); the first post claims it in the
    shared cache, a repeat is sent to what the first one made. A failed first post frees it.

        once = FormOnce(request)
        if once.repeated:
            return redirect(once.repeated)
        ...create...; once.done(url) — or once.failed() when refused
    """

    FIELD = "form_token"
    SECONDS = 3600

    def __init__(self, request: HttpRequest, fallback: str = "/") -> None:
        from django.core.cache import cache

        self._cache = cache
        token = (request.POST.get(self.FIELD) or "")[:64]
        self._key = f"form-once:{getattr(request.user, 'pk', '')}:{token}" if token else ""
        self.repeated = ""
        if self._key and not cache.add(self._key, "", self.SECONDS):
            self.repeated = cache.get(self._key) or fallback

    def done(self, url: str) -> None:
        if self._key:
            self._cache.set(self._key, url, self.SECONDS)

    def failed(self) -> None:
        if self._key:
            self._cache.delete(self._key)


def form_token() -> str:
    import uuid

    return uuid.uuid4().hex
