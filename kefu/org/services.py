"""Writes for the organisation: staff import, users, tokens."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.actions import OPERATOR, OWN, action, has_capability, is_operator
from kefu.core.actors import Actor
from kefu.core.errors import ApplicationError, PermissionDenied
from kefu.core.events import SystemActor, event_record
from kefu.core.imports import ImportSummary, check_upload, import_run
from kefu.core.params import in_range
from kefu.core.scoping import forget_scope
from kefu.core.signals import staff_leave_date_set
from kefu.imports.staff import parse_staff
from kefu.imports.tabular import FileFormatError
from kefu.org.rules import Verb

from .models import POSITION_NAMES_ZH, ApiToken, Position, Shop, Staff, Team

TOKEN_PREFIX = "kefu_"


def _position_names() -> dict[str, str]:
    names: dict[str, str] = {k: str(v) for k, v in POSITION_NAMES_ZH.items()}
    for value, label in Position.choices:
        names[value] = value
        names[str(label).lower()] = value
    return names


@action(capability="org.manage")
def team_get_or_create(*, actor: Actor, name: str) -> Team:
    team, created = Team.objects.get_or_create(name=name)
    if created:
        event_record(actor=actor, verb=Verb.TEAM_CREATED, subject=team, after={"name": name})
    return team


@action(capability="org.manage")
def team_set_shops(*, actor: Actor, team: Team, shops: list[Shop]) -> None:
    before = sorted(team.shops.values_list("name", flat=True))
    team.shops.set(shops)
    event_record(
        actor=actor,
        verb=Verb.TEAM_SHOPS_SET,
        subject=team,
        before={"shops": before},
        after={"shops": sorted(s.name for s in shops)},
    )


@action(capability="org.manage")
def shop_create(*, actor: Actor, name: str, code: str, platform: str = "tmall") -> Shop:
    if Shop.objects.filter(name=name).exists():
        raise ApplicationError("shop_exists", _("The shop %(name)s exists already.") % {"name": name})
    shop = Shop.objects.create(name=name, code=code, platform=platform)
    event_record(
        actor=actor, verb=Verb.SHOP_CREATED, subject=shop, after={"name": name, "code": code, "platform": platform}
    )
    return shop


@action(capability="org.manage", atomic=False)
def staff_import(*, actor: Actor, data: bytes, file_name: str) -> ImportSummary:
    """Import the staff list (salary included): the organisation manager or the server's operator."""
    check_upload(data, file_name)
    try:
        parsed = parse_staff(data, _position_names())
    except FileFormatError as exc:
        raise ApplicationError("import_format", str(exc)) from exc
    with import_run(kind="staff", file_name=file_name, data=data, actor=actor, params={}) as summary:
        summary.fmt, summary.cells_of = "staff", parsed.cells_of
        for err in parsed.errors:
            summary.fail(err.row, err.reason, err.cells)
        with transaction.atomic(durable=True):
            _staff_rows(actor, parsed.records, summary)
    return summary


def _staff_rows(actor: Actor, records: Any, summary: ImportSummary) -> None:
    existing = {s.employee_no: s for s in Staff.objects.select_related("team")}
    teams = {t.name: t for t in Team.objects.all()}
    for record in records:
        values = dict(record.values)
        team_name = values.pop("team", None)
        if team_name is not None:
            if team_name and team_name not in teams:
                teams[team_name] = team_get_or_create(actor=actor, name=team_name)
            values["team"] = teams.get(team_name) if team_name else None
        staff = existing.get(record.employee_no)
        if staff is None:
            staff = Staff(employee_no=record.employee_no, **values)
            _leaving(staff)
            staff.save()
            event_record(
                actor=actor, verb=Verb.STAFF_CREATED, subject=staff, after={**values, "team": team_name or None}
            )
            summary.created += 1
            continue
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for key, value in values.items():
            current = getattr(staff, key)
            if current != value:
                before[key] = str(current) if key == "team" and current else current
                after[key] = str(value) if key == "team" and value else value
                setattr(staff, key, value)
        if after:
            if "leave_date" in after:
                _leaving(staff)
            staff.save()
            event_record(actor=actor, verb=Verb.STAFF_UPDATED, subject=staff, before=before, after=after)
            if "leave_date" in after:
                staff_leave_date_set.send(sender=Staff, staff=staff, leave_date=staff.leave_date)
            summary.updated += 1
        else:
            summary.unchanged += 1


@action(capability="org.manage")
def staff_link_dingtalk(*, actor: Actor, users: list[dict[str, Any]]) -> dict[str, Any]:
    """DingTalk's people matched to staff (a connector's users page): by 工号 (``job_number``), else by
    a name only one staff member has; the match's DingTalk UserId is recorded on the staff member,
    so punches and approvals find them. Nobody is created: a person DingTalk knows and Kefu does not
    is reported with why."""
    staff = list(Staff.objects.select_for_update().all())
    by_no = {s.employee_no: s for s in staff}
    by_name: dict[str, list[Staff]] = {}
    for s in staff:
        by_name.setdefault(s.name, []).append(s)
    taken = {s.dingtalk_user_id: s for s in staff if s.dingtalk_user_id}
    out: dict[str, Any] = {"updated": 0, "unchanged": 0, "failed": []}
    for user in users:
        user_id = str(user.get("userid") or "").strip()[:64]
        name = str(user.get("name") or "").strip()
        if not user_id:
            out["failed"].append((name or "?", _("The DingTalk record has no userid.")))
            continue
        found = by_no.get(str(user.get("job_number") or "").strip())
        if found is None and len(by_name.get(name, [])) == 1:
            found = by_name[name][0]
        if found is None:
            out["failed"].append(
                (
                    user_id,
                    _("No staff member matches %(name)s (工号 %(no)s).")
                    % {"name": name, "no": user.get("job_number") or "—"},
                )
            )
            continue
        holder = taken.get(user_id)
        if holder is not None and holder.pk != found.pk:
            out["failed"].append((user_id, _("The UserId is already %(name)s's.") % {"name": holder.name}))
            continue
        if found.dingtalk_user_id == user_id:
            out["unchanged"] += 1
            continue
        before = found.dingtalk_user_id
        Staff.objects.filter(pk=found.pk).update(dingtalk_user_id=user_id)
        found.dingtalk_user_id = user_id
        taken[user_id] = found
        event_record(
            actor=actor,
            verb=Verb.STAFF_UPDATED,
            subject=found,
            before={"dingtalk_user_id": before},
            after={"dingtalk_user_id": user_id},
        )
        out["updated"] += 1
    return out


def _leaving(staff: Staff) -> None:
    """R-WF-18: a person is inactive after their leaving date (and active again if it is taken back
    or moved into the future)."""
    if staff.leave_date is not None:
        staff.active = staff.leave_date >= clock.today()


@action(capability="org.manage", scope=("staff",))
def staff_set_leave_date(*, actor: Actor, staff: Staff, leave_date: dt.date | None) -> Staff:
    """R-WF-18: the supervisor or the deputy records (or takes back) a leaving date; the person is
    inactive after it and the workforce ends their roster there."""
    if leave_date is not None and not in_range(leave_date):
        raise ApplicationError("leave_date", _("The leaving date must lie between 2000 and 2100."))
    if leave_date is not None and staff.hire_date is not None and leave_date < staff.hire_date:
        raise ApplicationError(
            "leave_date",
            _("The leaving date is before the hire date (%(hire)s).") % {"hire": staff.hire_date.isoformat()},
        )
    before = {"leave_date": staff.leave_date, "active": staff.active}
    staff.leave_date = leave_date
    _leaving(staff)
    staff.save(update_fields=["leave_date", "active"])
    event_record(
        actor=actor, verb=Verb.STAFF_LEAVE_DATE_SET, subject=staff, before=before,
        after={"leave_date": leave_date, "active": staff.active},
    )  # fmt: skip
    staff_leave_date_set.send(sender=Staff, staff=staff, leave_date=leave_date)
    return staff


@action(capability=OPERATOR)
def staff_leavers_deactivate(*, actor: Actor = None, today: dt.date) -> int:
    """The hourly job: people whose leaving date has passed become inactive (R-WF-18)."""
    leavers = list(Staff.objects.filter(active=True, leave_date__lt=today))
    for staff in leavers:
        if Staff.objects.filter(pk=staff.pk, active=True).update(active=False):
            after = {"leave_date": staff.leave_date}
            event_record(actor=actor or SystemActor("org"), verb=Verb.STAFF_LEFT, subject=staff, after=after)
    return len(leavers)


@action(capability="org.manage")
def user_create(*, actor: Actor, username: str, password: str, position: str, employee_no: str | None = None) -> Any:
    """Create a sign-in user with a position; link it to a staff record (existing, or a new one)."""
    position = _position_names().get(position, position)
    if position not in Position.values:
        raise ApplicationError("unknown_position", _("Unknown position: %(value)s") % {"value": str(position)[:20]})
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ApplicationError("user_exists", _("The user %(name)s exists already.") % {"name": username})
    with transaction.atomic():
        user = user_model.objects.create_user(username=username, password=password)
        if employee_no:
            staff = Staff.objects.filter(employee_no=employee_no).first()
            if staff is None:
                raise ApplicationError(
                    "unknown_staff", _("No staff member with employee no. %(no)s.") % {"no": employee_no}
                )
            if staff.user_id is not None:
                raise ApplicationError(
                    "staff_has_user", _("Staff member %(no)s already has a user.") % {"no": employee_no}
                )
            staff.user = user
            staff.position = position
            staff.save(update_fields=["user", "position"])
        else:
            staff = Staff.objects.create(employee_no=f"U{user.pk:05d}", name=username, position=position, user=user)
        event_record(
            actor=actor,
            verb=Verb.USER_CREATED,
            subject=user,
            after={"username": username, "position": position, "staff": staff.employee_no},
        )
    forget_scope(user)
    return user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _own_or_manager(actor: Actor, user: Any) -> None:
    """A person's tokens are theirs to create and revoke (and the organisation manager's)."""
    if not is_operator(actor) and getattr(actor, "pk", None) != user.pk and not has_capability(actor, "org.manage"):
        raise PermissionDenied()


@action(capability=OWN)
def token_create(*, actor: Actor, user: Any, name: str = "", expires_in_days: int | None = None) -> str:
    """Create a personal API token and return its secret (shown once; only the hash is kept). It
    stops working after ``expires_in_days`` (default ``KEFU_TOKEN_DAYS``, 90) and when its owner's
    password changes."""
    _own_or_manager(actor, user)
    if expires_in_days is None:
        expires_in_days = settings.KEFU_TOKEN_DAYS
    if not 1 <= expires_in_days <= 3650:
        raise ApplicationError("token_expiry", _("The validity must be 1–3650 days."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    expires = now + dt.timedelta(days=expires_in_days)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=secret[:12],
        digest=_digest(secret),
        created_at=now,
        expires_at=expires,
        auth_hash=user.get_session_auth_hash(),
    )
    event_record(
        actor=actor,
        verb=Verb.TOKEN_CREATED,
        subject=user,
        after={"prefix": token.prefix, "name": name, "expires_at": expires},
    )
    return secret


# Issue 20 §4: a token checked in this process is remembered for KEFU_TOKEN_MEMORY_SECONDS, so an
# integration's calls do not each ask the database. A revocation, a password change or a deactivation
# made in this process forgets every remembered token at once (token_revoke, the user's post_save);
# made in another process, it takes effect here within those seconds (ADR 0022).
_remembered: dict[str, tuple[float, Any, dt.datetime | None]] = {}  # digest → (checked at, user, expires)
_REMEMBER_AT_MOST = 10_000


def tokens_forget() -> None:
    _remembered.clear()


def token_remembered(secret: str) -> Any | None:
    """The user of a token this process checked a moment ago (a copy: requests do not share it),
    or None — then ``token_authenticate`` asks the database."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    hit = _remembered.get(_digest(secret))
    if hit is None or time.monotonic() - hit[0] >= settings.KEFU_TOKEN_MEMORY_SECONDS:
        return None
    if hit[2] is not None and hit[2] <= clock.now():
        return None
    return copy.copy(hit[1])


def token_authenticate(secret: str) -> Any | None:
    """The active user of a valid, unrevoked, unexpired token, or None. One hand-written query (it
    runs on every API call the process does not remember: the ORM's compilation of the same join
    cost more than the query)."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    user_model = get_user_model()
    now = clock.now()
    users, tokens = user_model._meta.db_table, ApiToken._meta.db_table
    found = list(
        user_model.objects.raw(
            f"SELECT u.*, t.id AS kefu_token_id, t.last_used_at AS kefu_token_used, t.auth_hash AS kefu_token_auth, "  # noqa: S608
            f"t.expires_at AS kefu_token_expires "
            f"FROM {users} u JOIN {tokens} t ON t.user_id = u.id WHERE t.digest = %s AND t.revoked_at IS NULL "
            "AND u.is_active = %s AND (t.expires_at IS NULL OR t.expires_at > %s)",
            [_digest(secret), True, now],
        )
    )
    if not found:
        return None
    user: Any = found[0]
    if not hmac.compare_digest(user.kefu_token_auth or "", user.get_session_auth_hash()):
        return None  # the password changed since the token was made
    used = user.kefu_token_used
    if isinstance(used, str):  # SQLite returns the extra column as text
        used = dt.datetime.fromisoformat(used)
    if used is None or (now - (used if used.tzinfo else used.replace(tzinfo=dt.UTC))).total_seconds() > 60:
        ApiToken.objects.filter(pk=user.kefu_token_id).update(last_used_at=now)
    if settings.KEFU_TOKEN_MEMORY_SECONDS > 0:
        if len(_remembered) >= _REMEMBER_AT_MOST:
            _remembered.clear()
        expires = user.kefu_token_expires
        if isinstance(expires, str):
            expires = dt.datetime.fromisoformat(expires)
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        _remembered[_digest(secret)] = (time.monotonic(), user, expires)
    return user


@action(capability=OWN)
def token_revoke(*, actor: Actor, token: ApiToken) -> None:
    _own_or_manager(actor, token.user)
    if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now()):
        return
    tokens_forget()
    event_record(actor=actor, verb=Verb.TOKEN_REVOKED, subject=token.user, after={"prefix": token.prefix})
