"""Navigation from the sections the apps register (``core.plugins``), filtered by capability."""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from kefu.core import plugins
from kefu.core.scoping import scope_for
from kefu.org.permissions import has_capability


@functools.cache
def _url(name: str) -> str:
    """A navigation item's address: the URLconf does not change while the process runs (every
    page asked for each of them again: ~40 reverses per request)."""
    return reverse(name)


# The side navigation's HTML by (language, page, the items the user may open): the same few strings
# for everyone who holds the same capabilities, so it is written once per process, not per request.
_NAV_HTML: dict[tuple[str, str, tuple[str, ...]], SafeString] = {}


def navigation(request: HttpRequest) -> dict[str, Any]:
    """``nav_html``: the side navigation of the sections the user may open; ``who``: the name the
    top bar shows."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_html": "", "who": ""}
    current = request.resolver_match.view_name if request.resolver_match else ""
    sections = []
    for section in plugins.nav_sections():
        entries = [
            {"label": item.label, "url": _url(item.url_name), "active": current == item.url_name}
            for item in section.items
            if item.capability is None or has_capability(user, item.capability)
        ]
        if entries:
            sections.append({"title": section.title, "items": entries})
    key = (get_language() or "", current, tuple(str(item["url"]) for s in sections for item in s["items"]))
    html = _NAV_HTML.get(key)
    if html is None:
        if len(_NAV_HTML) > 1000:
            _NAV_HTML.clear()
        html = _NAV_HTML[key] = _nav_html(sections)
    return {"nav_html": html, "who": scope_for(user).name or user.get_username()}


def _nav_html(sections: list[dict[str, Any]]) -> SafeString:
    parts = []
    for section in sections:
        parts.append(format_html('<div class="nav-section">{}</div>', section["title"]))
        for item in section["items"]:
            active = "active" if item["active"] else ""
            parts.append(format_html('<a href="{}" class="{}">{}</a>', item["url"], active, item["label"]))
    return SafeString("\n".join(parts))
