"""Connector writes (issue 21 §1): set-up and key changes, and the sync runner.

The runner takes a lease on the connector with a conditional UPDATE (one run at a time, whoever
asks: the schedule, "sync now", the command line), then for each stream walks windows of
modification time from its cursor (less an overlap) to now, page by page, handing every page to
the import service of its kind. A window's cursor is saved only once the whole window is in:
a run stopped midway (a crash, a deploy, a rate limit that outlasts the retries) asks the same
window again next time, and the import services, being idempotent, count what they already hold
as unchanged — nothing lost, nothing doubled.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.actions import action
from kefu.core.actors import Actor, user_of
from kefu.core.errors import ApplicationError
from kefu.core.events import SystemActor, event_record
from kefu.org.models import Shop

from . import crypto
from .base import Context, Landed, adapters, prefetched, windows
from .models import Connector, Outcome, SyncRun, Trigger
from .rules import Verb
from .transport import AuthExpired, Backoff, PlatformError, client

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=30)  # a run silent this long is taken to have died
MAX_FAILURES_KEPT = 200
LAND_BATCH = 500  # records handed to an import service at once (one import run per batch)
ALERT_AFTER = dt.timedelta(hours=1)


def _check_gateway(url: str) -> str:
    url = url.strip()
    if not url.startswith(("https://", "http://")) or len(url) > 300:
        raise ApplicationError("connector", _("The gateway must be an http(s) URL of at most 300 characters."))
    return url


@action(capability="connectors.manage", scope=("shop",))
def connector_add(
    *,
    actor: Actor,
    platform: str,
    name: str,
    app_key: str,
    app_secret: str,
    session: str = "",
    shop: Shop | None = None,
    gateway: str = "",
    session_expires_at: dt.datetime | None = None,
    sign_method: str = "md5",
    interval_minutes: int = 10,
    start_from: dt.datetime | None = None,
    admin_user: str = "",
    trip_process_code: str = "",
) -> Connector:
    """``admin_user``: DingTalk's userid of an administrator, which its leave-type list asks for;
    ``trip_process_code``: the process code of the organisation's business-trip approval form."""
    adapter = adapters().get(platform)
    if adapter is None:
        raise ApplicationError("connector", _("Unknown platform: %(name)s") % {"name": platform[:20]})
    name = name.strip()
    if not name or len(name) > 64:
        raise ApplicationError("connector", _("A connector needs a name of at most 64 characters."))
    if adapter.needs_shop and shop is None:
        raise ApplicationError("connector", _("A shop platform's connector belongs to a shop."))
    if not adapter.needs_shop:
        shop = None
    if not app_key.strip() or not app_secret.strip():
        raise ApplicationError("connector", _("The app key and the app secret are required."))
    if sign_method not in {"md5", "hmac", "hmac-sha256"}:
        raise ApplicationError("connector", _("The sign method is md5, hmac or hmac-sha256."))
    if not 1 <= interval_minutes <= 1440:
        raise ApplicationError("connector", _("A connector runs every 1 to 1,440 minutes."))
    cursors = {}
    if start_from is not None:
        cursors = {s.name: start_from.isoformat() for s in adapter.streams}
    try:
        with transaction.atomic():
            connector = Connector.objects.create(
                name=name,
                platform=platform,
                shop=shop,
                gateway=_check_gateway(gateway or adapter.default_gateway),
                app_key=app_key.strip()[:64],
                sealed=crypto.seal(
                    {
                        "app_secret": app_secret,
                        "session": session,
                        "sign_method": sign_method,
                        "op_userid": admin_user,
                        "trip_process_code": trip_process_code,
                    }
                ),
                session_expires_at=session_expires_at,
                interval_minutes=interval_minutes,
                cursors=cursors,
                next_run_at=clock.now(),
            )
    except IntegrityError:
        raise ApplicationError("connector_exists", _("A connector with this name exists."), status=409) from None
    event_record(
        actor=actor,
        verb=Verb.CONNECTOR_ADDED,
        subject=connector,
        after={"platform": platform, "shop": shop.name if shop else "", "gateway": connector.gateway},
    )
    return connector


@action(capability="connectors.manage", scope=("connector",))
def connector_update(
    *,
    actor: Actor,
    connector: Connector,
    app_secret: str | None = None,
    session: str | None = None,
    session_expires_at: dt.datetime | None = None,
    gateway: str | None = None,
    interval_minutes: int | None = None,
    enabled: bool | None = None,
) -> Connector:
    """New keys (a renewed session), another gateway, the schedule, on or off. Secrets are never
    written to the timeline: only that they changed."""
    locked = Connector.objects.select_for_update().get(pk=connector.pk)
    secrets = crypto.unseal(locked.sealed) if (app_secret or session) else {}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if app_secret:
        secrets["app_secret"] = app_secret
        after["app_secret"] = "changed"  # a code the timeline words (never the secret)
    if session:
        secrets["session"] = session
        after["session"] = "changed"
    if secrets:
        locked.sealed = crypto.seal(secrets)
    if session_expires_at is not None and session_expires_at != locked.session_expires_at:
        before["session_expires_at"], after["session_expires_at"] = locked.session_expires_at, session_expires_at
        locked.session_expires_at = session_expires_at
    if gateway is not None and gateway != locked.gateway:
        before["gateway"], after["gateway"] = locked.gateway, _check_gateway(gateway)
        locked.gateway = after["gateway"]
    if interval_minutes is not None and interval_minutes != locked.interval_minutes:
        if not 1 <= interval_minutes <= 1440:
            raise ApplicationError("connector", _("A connector runs every 1 to 1,440 minutes."))
        before["interval_minutes"], after["interval_minutes"] = locked.interval_minutes, interval_minutes
        locked.interval_minutes = interval_minutes
    if enabled is not None and enabled != locked.enabled:
        before["enabled"], after["enabled"] = locked.enabled, enabled
        locked.enabled = enabled
        if enabled:
            locked.next_run_at = clock.now()
    if after:
        if session or app_secret:
            locked.last_error = ""  # new keys: the old refusal no longer describes the connector
        locked.save()
        event_record(actor=actor, verb=Verb.CONNECTOR_CHANGED, subject=locked, before=before, after=after)
    return locked


# --- the runner -----------------------------------------------------------------------------------


def _take(connector_id: int) -> dt.datetime | None:
    """The connector's lease (its mark, to renew and release it by), or None when a live run holds it."""
    now = clock.now()
    taken = (
        Connector.objects.filter(pk=connector_id)
        .filter(Q(running_since__isnull=True) | Q(running_since__lt=now - LEASE))
        .update(running_since=now)
    )
    return now if taken else None


class LeaseLost(Exception):
    """The run was silent past the lease and another run took the connector: this one stops."""


def _renew(ctx: Context) -> None:
    """A run's sign of life after each page it lands: the lease moves on, so a long first sync is not
    taken for dead; a lease another run took means this one stops before it writes again."""
    now = clock.now()
    if not Connector.objects.filter(pk=ctx.connector.pk, running_since=ctx.state["lease"]).update(running_since=now):
        raise LeaseLost(ctx.connector.pk)
    ctx.state["lease"] = now


def _release(connector_id: int, lease: dt.datetime) -> None:
    Connector.objects.filter(pk=connector_id, running_since=lease).update(running_since=None)


def _actor_for(connector: Connector) -> SystemActor:
    return SystemActor(f"connector:{connector.name}")


def _save_progress(
    run: SyncRun, landed: Landed, fetched: int, pages: int, retries: int, ctx: Context, renew: bool = True
) -> None:
    if renew:
        _renew(ctx)
    run.fetched, run.pages, run.retries = fetched, pages, retries
    run.created, run.updated, run.unchanged = landed.created, landed.updated, landed.unchanged
    run.failed = len(landed.failures)
    run.failures = [{"record": ref, "reason": why} for ref, why in landed.failures[:MAX_FAILURES_KEPT]]
    SyncRun.objects.filter(pk=run.pk).update(
        fetched=run.fetched,
        pages=run.pages,
        retries=run.retries,
        created=run.created,
        updated=run.updated,
        unchanged=run.unchanged,
        failed=run.failed,
        failures=run.failures,
    )


def _run_stream(
    ctx: Context, stream: Any, trigger: str, user: Any, since: dt.datetime | None, now: dt.datetime
) -> SyncRun:
    connector = ctx.connector
    cursor_text = connector.cursors.get(stream.name)
    if since is not None:
        start = since
    elif cursor_text:
        start = dt.datetime.fromisoformat(cursor_text) - stream.overlap
    else:
        start = now - dt.timedelta(days=stream.first_days)
    align = getattr(stream, "align", None)
    if align is not None:
        start = align(start)
    # a stream of what is planned (approved leave) also reads ahead; its cursor never passes now
    end = now + getattr(stream, "ahead", dt.timedelta(0))
    run = SyncRun.objects.create(
        connector=connector,
        stream=stream.name,
        trigger=trigger,
        actor=user,
        started_at=clock.now(),
        window_start=start,
        window_end=end,
    )
    landed, fetched, pages = Landed(), 0, 0
    retries_before = ctx.backoff.retries
    try:
        for low, high in windows(start, end, stream.window):
            batch: list[dict[str, Any]] = []
            source = stream.pages(ctx, low, high)
            for page in prefetched(source) if getattr(stream, "prefetch", False) else source:
                pages += 1
                fetched += len(page)
                batch += page
                if len(batch) >= LAND_BATCH:
                    landed.add(stream.land(ctx, batch))
                    batch = []
                    _save_progress(run, landed, fetched, pages, ctx.backoff.retries - retries_before, ctx)
            if batch:
                landed.add(stream.land(ctx, batch))
            # the whole window is in: the cursor moves (never backwards: a "since" run re-reads history)
            _save_progress(run, landed, fetched, pages, ctx.backoff.retries - retries_before, ctx)
            mark = min(high, now).isoformat()
            if since is None or mark > (connector.cursors.get(stream.name) or ""):
                connector.cursors[stream.name] = mark
                # written only while this run holds the lease (just renewed above)
                Connector.objects.filter(pk=connector.pk, running_since=ctx.state["lease"]).update(
                    cursors=connector.cursors
                )
    except Exception as exc:
        if not isinstance(exc, PlatformError | LeaseLost):
            log.exception("connector %s stream %s crashed", connector.name, stream.name)
        _save_progress(run, landed, fetched, pages, ctx.backoff.retries - retries_before, ctx, renew=False)
        _finish(run, Outcome.FAILED, _stopped(exc)[:500])
        raise
    _finish(run, Outcome.PARTIAL if landed.failures else Outcome.OK, "")
    return run


def _finish(run: SyncRun, outcome: str, error: str) -> None:
    run.outcome, run.error, run.finished_at = outcome, error, clock.now()
    SyncRun.objects.filter(pk=run.pk).update(outcome=outcome, error=error, finished_at=run.finished_at)


def connector_sync(
    *,
    connector: Connector,
    trigger: str = Trigger.SCHEDULE,
    user: Any = None,
    since: dt.datetime | None = None,
    streams: list[str] | None = None,
    backoff: Backoff | None = None,
) -> list[SyncRun]:
    """Run the connector's streams now (the caller has checked who may ask). ``since`` re-reads from
    that instant without moving a cursor back. Raises ``ApplicationError("connector_busy")`` when a
    run holds the connector."""
    adapter = adapters()[connector.platform]
    lease = _take(connector.pk)
    if lease is None:
        raise ApplicationError("connector_busy", _("The connector is syncing already."), status=409)
    runs: list[SyncRun | None] = []
    error = ""
    lost = False
    ctx: Context | None = None
    try:
        connector.refresh_from_db()
        actor = _actor_for(connector)
        now = clock.now()
        with client() as http:
            ctx = Context(connector, crypto.unseal(connector.sealed), http, backoff or Backoff(), actor)
            ctx.state["lease"] = lease
            try:
                adapter.open(ctx)
                for stream in adapter.streams:
                    if streams and stream.name not in streams:
                        continue
                    try:
                        runs.append(_run_stream(ctx, stream, trigger, user_of(user), since, now))
                    except Exception as exc:  # the run is finished as failed; its log says what stopped it
                        runs.append(
                            SyncRun.objects.filter(connector=connector, stream=stream.name).order_by("-id").first()
                        )
                        if isinstance(exc, LeaseLost):
                            lost = True
                            break  # another run holds the connector now: the rest and its health are its own
                        error = error or _stopped(exc)
                        if isinstance(exc, AuthExpired):
                            break  # every stream would meet the same refusal
            except Exception as exc:  # the adapter's opening (a token) failed: the run's error, never a success
                if not isinstance(exc, PlatformError):
                    log.exception("connector %s: opening failed", connector.name)
                error = _stopped(exc)
    except Exception as exc:  # whatever stopped the run is its health: never a success
        error = error or _stopped(exc)
        raise
    finally:
        if not lost:
            _settle(connector, error)
            _release(connector.pk, ctx.state["lease"] if ctx is not None else lease)
    return [r for r in runs if r is not None]


def _stopped(exc: BaseException) -> str:
    """What stopped a stream, as the health page says it: the platform's own words for a refusal,
    a sentence of ours for anything else (never Python's)."""
    if isinstance(exc, PlatformError):
        return str(exc)
    if isinstance(exc, LeaseLost):
        return _("Another run took the connector over; this one stopped.")
    return _("Stopped by an error in Kefu (%(error)s).") % {"error": type(exc).__name__}


def _settle(connector: Connector, error: str) -> None:
    """The connector's health after a run: its last success, or since when it fails and why; the
    change between the two goes on its timeline."""
    now = clock.now()
    next_run = now + dt.timedelta(minutes=connector.interval_minutes)
    actor = _actor_for(connector)
    with transaction.atomic():
        current = Connector.objects.select_for_update().get(pk=connector.pk)
        if error:
            first = current.failing_since is None
            Connector.objects.filter(pk=connector.pk).update(
                failing_since=F("failing_since") if not first else now, last_error=error[:500], next_run_at=next_run
            )
            if first:
                event_record(actor=actor, verb=Verb.CONNECTOR_FAILED, subject=current, after={"error": error[:200]})
        else:
            Connector.objects.filter(pk=connector.pk).update(
                failing_since=None, last_error="", last_success_at=now, next_run_at=next_run
            )
            if current.failing_since is not None:
                event_record(actor=actor, verb=Verb.CONNECTOR_RECOVERED, subject=current)
