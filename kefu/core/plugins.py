"""Where modules plug themselves in (issue: "apps plug themselves in"). Each app's
``AppConfig.ready()`` registers its navigation section, URL include, API router, home-page cards,
search provider and the panels it adds to other modules' pages; the web layer, the URL
configuration and the API read these registries instead of keeping central lists.

Core knows no app: everything here is plain data and callables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .actors import Actor


@dataclass(frozen=True)
class NavItem:
    label: Any  # a lazy translation
    url_name: str
    capability: str | None = None


@dataclass(frozen=True)
class NavSection:
    key: str
    title: Any
    order: int
    items: tuple[NavItem, ...]


@dataclass(frozen=True)
class HomeRow:
    """One line under a home-page card: what it is, where it opens, and a short detail."""

    title: str
    url: str
    detail: str = ""
    warn: bool = False


@dataclass(frozen=True)
class HomeCard:
    """One line of "what waits for me": ``count(user, staff)`` returns None when it does not apply
    to this person (so a team lead sees their team's cards and an agent their own, never zeros
    that mean "not for you")."""

    key: str
    label: Any
    url: Callable[[], str]
    count: Callable[[Any, Any], int | None]
    order: int = 100
    capability: str | None = None
    # the first few records behind the count, so the page shows the work itself, not only a number
    rows: Callable[[Any, Any], list[HomeRow]] | None = None


@dataclass(frozen=True)
class SearchHit:
    kind: Any  # "订单", "售后案件" …
    title: str
    url: str
    detail: str = ""


@dataclass(frozen=True)
class SearchProvider:
    key: str
    label: Any
    search: Callable[[Any, str], list[SearchHit]]  # (actor, query) → hits inside the actor's scope
    order: int = 100


@dataclass(frozen=True)
class Panel:
    """A block one module adds to another module's detail page (after-sales on the order page)."""

    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]  # (request, object) → context, or None to hide
    order: int = 100


@dataclass
class _Registry:
    nav: dict[str, NavSection] = field(default_factory=dict)
    urls: list[tuple[str, str, int]] = field(default_factory=list)  # (prefix, urlconf module, order)
    api: list[tuple[str, Any]] = field(default_factory=list)  # (key, ninja Router)
    cards: dict[str, HomeCard] = field(default_factory=dict)
    search: dict[str, SearchProvider] = field(default_factory=dict)
    panels: dict[str, list[Panel]] = field(default_factory=dict)
    # who served a buyer in a shop before a moment (shop id, buyer nick, moment) → a staff member or
    # None: the desk answers, after-sales asks (R-AS-8), neither imports the other
    served_by: list[Callable[[int, str, Any], Any]] = field(default_factory=list)
    # the shop of a conversation the actor may see (actor, conversation id) → shop id or None: the
    # desk answers, after-sales asks when a case is opened from a conversation
    conversation_shop: list[Callable[[Any, int], int | None]] = field(default_factory=list)
    # alerts for the team lead's daily summary (actor, team) → sentences: the connectors say which of
    # theirs fail, the desk shows them, neither imports the other
    summary_alerts: list[Callable[[Any, Any], list[str]]] = field(default_factory=list)
    # lines for the team lead's daily summary of a day (actor, team, day) → sentences: quality
    # inspection reports its day there, the desk shows them
    summary_lines: list[Callable[[Any, Any, Any], list[str]]] = field(default_factory=list)


REGISTRY = _Registry()


def nav_section(section: NavSection) -> None:
    """Add a section, or add items to a section another app opened (same key)."""
    present = REGISTRY.nav.get(section.key)
    if present is None:
        REGISTRY.nav[section.key] = section
        return
    items = present.items + tuple(i for i in section.items if i not in present.items)
    REGISTRY.nav[section.key] = NavSection(present.key, present.title, present.order, items)


def urls(prefix: str, module: str, order: int = 100) -> None:
    """Mount ``module``'s urlpatterns under ``prefix`` ("" for the site root; root entries go last)."""
    if all(m != module for _p, m, _o in REGISTRY.urls):
        REGISTRY.urls.append((prefix, module, order))


def api_router(key: str, router: Any) -> None:
    if all(k != key for k, _r in REGISTRY.api):
        REGISTRY.api.append((key, router))


def home_card(card: HomeCard) -> None:
    REGISTRY.cards.setdefault(card.key, card)


def search_provider(provider: SearchProvider) -> None:
    REGISTRY.search.setdefault(provider.key, provider)


def panel(page: str, item: Panel) -> None:
    entries = REGISTRY.panels.setdefault(page, [])
    if item not in entries:
        entries.append(item)


def buyer_server(provider: Callable[[int, str, Any], Any]) -> None:
    if provider not in REGISTRY.served_by:
        REGISTRY.served_by.append(provider)


def served_by(shop_id: int, buyer: str, before: Any) -> Any:
    """The staff member who served ``buyer`` in the shop last before ``before``, by the first module
    that knows; None when none does."""
    for provider in REGISTRY.served_by:
        found = provider(shop_id, buyer, before)
        if found is not None:
            return found
    return None


def nav_sections() -> list[NavSection]:
    return sorted(REGISTRY.nav.values(), key=lambda s: s.order)


def url_includes() -> list[tuple[str, str]]:
    return [(p, m) for p, m, _o in sorted(REGISTRY.urls, key=lambda u: (u[0] == "", u[2]))]


def api_routers() -> list[Any]:
    return [r for _k, r in REGISTRY.api]


def home_cards() -> list[HomeCard]:
    return sorted(REGISTRY.cards.values(), key=lambda c: c.order)


def search_providers() -> list[SearchProvider]:
    return sorted(REGISTRY.search.values(), key=lambda p: p.order)


def panels(page: str) -> list[Panel]:
    return sorted(REGISTRY.panels.get(page, []), key=lambda p: p.order)


def conversation_resolver(provider: Callable[[Any, int], int | None]) -> None:
    if provider not in REGISTRY.conversation_shop:
        REGISTRY.conversation_shop.append(provider)


def conversation_shop(actor: Actor, conversation_id: int) -> int | None:
    """The shop of a conversation ``actor`` may see, by the module that keeps conversations; None
    when none does (or it is outside the actor's scope)."""
    for provider in REGISTRY.conversation_shop:
        found = provider(actor, conversation_id)
        if found is not None:
            return found
    return None


def summary_alert(provider: Callable[[Any, Any], list[str]]) -> None:
    if provider not in REGISTRY.summary_alerts:
        REGISTRY.summary_alerts.append(provider)


def summary_alerts(actor: Actor, team: Any) -> list[str]:
    """Every module's alerts for the team lead's daily summary of ``team``."""
    return [sentence for provider in REGISTRY.summary_alerts for sentence in provider(actor, team)]


def summary_line(provider: Callable[[Any, Any, Any], list[str]]) -> None:
    if provider not in REGISTRY.summary_lines:
        REGISTRY.summary_lines.append(provider)


def summary_lines(actor: Actor, team: Any, day: Any) -> list[str]:
    """Every module's lines for the daily summary of ``team`` on ``day``."""
    return [sentence for provider in REGISTRY.summary_lines for sentence in provider(actor, team, day)]
