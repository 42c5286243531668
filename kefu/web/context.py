"""Navigation from the sections the apps register (``core.plugins``), filtered by capability."""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from kefu.core import plugins
from kefu.org.permissions import has_capability


@functools.cache
def _url(name: str) -> str:
    """A navigation item's address: the URLconf does not change while the process runs (every
    page asked for each of them again: ~40 reverses per request)."""
    return reverse(name)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
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
    return {"nav": sections}
