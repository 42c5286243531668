"""The probe of issue 16, re-runnable: a production-shaped instance (PostgreSQL, Redis, `kefu serve
--workers 4` with uvicorn workers, a separate `kefu worker`, production settings behind a simulated
TLS proxy) loaded with the demo data, then four categories, each counted:

1. **cross-team reads** — every page and API route with an object id (from Django's URL resolver, as
   tests/test_scoping.py walks them), for every demo role signed in through the real sign-in form,
   with ids of objects outside the role's scope (the other team's; for the technician and the
   warehouse contact also their own team's objects that are not their work). A 2xx is a leak.
   Every response (and every list page, export and API list, with the other team's ids as filters)
   is scanned for private markers planted in the data: customers' and receivers' phones, service /
   complaint / agreement contact phones (unique per object) and base salaries; a marker of an
   object the role may not see is a leak.
2. **cross-team writes** — POST on every object route with the other team's ids (a plausible body;
   the same body against an object in scope is the control), and the other team's ids inside the
   bodies of every write route without an id (page forms and API JSON). A write "succeeded" when
   the target's rows, the other team's footprint or the actor's audit trail changed.
3. **fuzz** — ≥ 10,000 requests with malformed query parameters, cursors, amounts, dates, ids and
   bodies against pages and the JSON API (sessions and tokens, several roles). Counts answers ≥ 500.
4. **parallel** — 100 requests at once (threads on a barrier) on every money, stock and message path:
   identical (same idempotency key / form token / signed request) and with different keys. After
   each, the invariant is checked in the database (one effect, refunds never above paid, stock never
   negative, no duplicate messages) and the 5xx counted.

Prints progress on stderr-ish stdout lines and, last, one JSON line with every count.

    .venv/bin/python bench/probe.py                       # everything (≈ 8–10 min on 2 cores)
    .venv/bin/python bench/probe.py --fuzz 12000 --parallel 100 --rounds 3 --only reads,writes,parallel,fuzz
    .venv/bin/python bench/probe.py --only none --keep    # only the instance, signed in, for reproducing by hand
    .venv/bin/python bench/probe.py --keep                # leave the server running at the end (prints its URL)

Uses database ``kefu_probe`` (dropped and created) and Redis database 7 (flushed) unless told otherwise.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "kefu-demo-2026"
ROLES = [
    "zhuguan", "fuzhuguan", "yz_zuzhang", "hf_zuzhang", "yz_shouqian", "yz_shouhou",
    "hf_shouqian", "hf_shouhou", "jishu", "jishu2", "cangku",
]  # fmt: skip
ALL_SEEING = {"zhuguan", "fuzhuguan"}
PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
PHONE = re.compile(r"(?<!\d)17([1-5])(\d{8})(?!\d)")
SALARY = re.compile(r"(?<![\d,])9,?0(\d\d)\.37(?!\d)")
ORDER_NO = re.compile(r"(?<!\d)\d{17}(?!\d)")
MARKER_KIND = {"1": "customer", "2": "order", "3": "service", "4": "complaint", "5": "agreement"}
T0 = time.monotonic()


def log(*parts: Any) -> None:
    print(f"[{time.monotonic() - T0:7.1f}s]", *parts, flush=True)


# ------------------------------------------------------------------------------------------------
# the instance


class Instance:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.var = Path(tempfile.mkdtemp(prefix="kefu-probe-"))
        self.port = args.port or _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db_url = f"postgres://postgres@127.0.0.1:5432/{args.db}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "DJANGO_"))}
        self.env.update(
            {
                "KEFU_DATABASE_URL": self.db_url,
                "KEFU_REDIS_URL": args.redis,
                "KEFU_SECRET_KEY": secrets.token_urlsafe(48),
                "KEFU_VAR_DIR": str(self.var),
                "KEFU_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "KEFU_TRUSTED_PROXIES": "127.0.0.1",  # as behind nginx: X-Forwarded-For names the client
                "KEFU_LOG_LEVEL": "WARNING",
                "DJANGO_SETTINGS_MODULE": "config.settings.production",
                "PYTHONPATH": str(ROOT),
            }
        )
        self.procs: list[subprocess.Popen[bytes]] = []
        self.log_path = self.var / "server.log"
        self.worker: subprocess.Popen[bytes] | None = None

    def create_database(self) -> None:
        import psycopg
        import redis

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.args.db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.args.db}"')
        redis.Redis.from_url(self.args.redis).flushdb()  # only our database number
        log(f"database {self.args.db} created, {self.args.redis} flushed; var {self.var}")

    def demo(self) -> None:
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "kefu.cli", "demo", "--orders-per-shop", str(self.args.orders_per_shop)],
            cwd=ROOT, env=self.env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        log(f"kefu demo loaded in {time.monotonic() - started:.1f}s")

    def django(self) -> None:
        os.environ.update(self.env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()

    def start(self) -> None:
        out = self.log_path.open("ab")
        for args in (
            [
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.args.workers),
                "--no-worker",
            ],
            ["worker"],
        ):
            process = subprocess.Popen(
                [sys.executable, "-m", "kefu.cli", *args], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            self.procs.append(process)
        self.worker = self.procs[1]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                r = requests.get(self.base + "/login/", headers={"X-Forwarded-Proto": "https"}, timeout=5)
                if r.status_code == 200:
                    log(
                        f"kefu serve --workers {self.args.workers} answers on {self.base}; kefu worker pid {self.worker.pid}"
                    )
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit(f"the server did not answer; see {self.log_path}")

    def pause_worker(self, pause: bool) -> None:
        """The task worker's periodic jobs (SLA escalation, chases, rollups) change rows on their own:
        while writes are being attributed, the worker is stopped (SIGSTOP) and then continued."""
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGSTOP if pause else signal.SIGCONT)

    def stop(self) -> None:
        self.pause_worker(False)
        for process in self.procs:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.procs:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------------------------------
# HTTP: as a browser behind the TLS proxy (X-Forwarded-Proto), with the role's own address


_local = threading.local()


def _session() -> requests.Session:
    s = getattr(_local, "s", None)
    if s is None:
        s = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=4, max_retries=0)
        s.mount("http://", adapter)
        _local.s = s
    return s


class Answer:
    __slots__ = ("body", "elapsed", "headers", "status")

    def __init__(self, status: int, body: bytes, headers: dict[str, str], elapsed: float) -> None:
        self.status, self.body, self.headers, self.elapsed = status, body, headers, elapsed

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class Who:
    """A signed-in role: its cookies (session, CSRF), its API token and its client address."""

    def __init__(self, username: str, ip: str) -> None:
        self.username = username
        self.ip = ip
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.user_id = 0


BASE = ""


def http(
    method: str,
    path: str,
    who: Who | None = None,
    *,
    token: str | None = None,
    data: Any = None,
    json_body: Any = None,
    raw: bytes | None = None,
    files: Any = None,
    headers: dict[str, str] | None = None,
    params: Any = None,
    timeout: float = 60,
    session_auth: bool = True,
    csrf: bool = True,
) -> Answer:
    h = {"X-Forwarded-Proto": "https", "Accept-Language": "zh-hans"}
    if who is not None:
        h["X-Forwarded-For"] = who.ip
        if session_auth and who.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in who.cookies.items())
        if token is None and not session_auth:
            token = who.token
    if token:
        h["Authorization"] = f"Bearer {token}"
    unsafe = method not in ("GET", "HEAD", "OPTIONS")
    if unsafe and who is not None and session_auth and csrf and "csrftoken" in who.cookies:
        host = BASE.split("//", 1)[1]
        h["Origin"] = f"https://{host}"
        h["X-CSRFToken"] = who.cookies["csrftoken"]
        if isinstance(data, dict):
            data = {**data, "csrfmiddlewaretoken": who.cookies["csrftoken"]}
    if headers:
        h.update(headers)
    s = _session()
    s.cookies.clear()
    started = time.monotonic()
    try:
        if raw is not None:
            r = s.request(
                method, BASE + path, data=raw, headers=h, params=params, timeout=timeout, allow_redirects=False
            )
        else:
            r = s.request(
                method, BASE + path, data=data, json=json_body, files=files, headers=h, params=params, timeout=timeout,
                allow_redirects=False,
            )  # fmt: skip
        return Answer(r.status_code, r.content, dict(r.headers), time.monotonic() - started)
    except (requests.exceptions.InvalidHeader, UnicodeEncodeError) as exc:  # the client refused to send it
        return Answer(-1, repr(exc).encode(), {}, time.monotonic() - started)
    except requests.RequestException as exc:  # no answer (reset, timeout): counted as a failure of the server
        return Answer(0, repr(exc).encode(), {}, time.monotonic() - started)


def sign_in(who: Who) -> None:
    """The real sign-in form: GET for the CSRF cookie and the form's token, POST the form."""
    s = requests.Session()
    h = {"X-Forwarded-Proto": "https", "X-Forwarded-For": who.ip}
    page = s.get(BASE + "/login/", headers=h, allow_redirects=False, timeout=30)
    jar = {c.name: c.value for c in page.cookies}
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert page.status_code == 200 and found and "csrftoken" in jar, (page.status_code, who.username)
    host = BASE.split("//", 1)[1]
    posted = requests.post(
        BASE + "/login/",
        data={"username": who.username, "password": PASSWORD, "csrfmiddlewaretoken": found.group(1)},
        headers={**h, "Origin": f"https://{host}", "Cookie": f"csrftoken={jar['csrftoken']}"},
        allow_redirects=False,
        timeout=60,
    )
    jar.update({c.name: c.value for c in posted.cookies})
    if posted.status_code != 302 or "sessionid" not in jar:
        raise SystemExit(f"sign-in of {who.username} failed: {posted.status_code} {posted.text[:300]}")
    who.cookies = {"sessionid": jar["sessionid"], "csrftoken": jar["csrftoken"]}


# ------------------------------------------------------------------------------------------------
# routes


def url_patterns() -> list[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(resolver: Any, prefix: str) -> list[str]:
        out: list[str] = []
        for entry in resolver.url_patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                if route.startswith("admin/"):
                    continue
                out += walk(entry, prefix + route)
            elif isinstance(entry, URLPattern):
                out.append(prefix + route)
        return out

    seen: list[str] = []
    for r in walk(get_resolver(), ""):
        r = r.lstrip("^").rstrip("$").replace("\\Z", "")
        if r not in seen:
            seen.append(r)
    return seen


def kind_of(route: str, name: str) -> str:
    """Which object a route parameter names (the same name means different things in places)."""
    if name == "request_id":
        return "service" if route.startswith("api/v1/service") else "leave"
    return {
        "service_id": "service", "case_id": "case", "line_id": "line", "claim_id": "claim",
        "review_id": "review", "order_id": "order", "evidence_id": "evidence", "customer_id": "customer",
        "product_id": "product", "shop_id": "shop", "team_id": "team", "staff_id": "staff",
        "agreement_id": "agreement", "item_id": "item", "bill_id": "bill", "complaint_id": "complaint",
        "visit_id": "visit", "conversation_id": "conversation", "script_id": "script", "packet_id": "packet",
        "entry_id": "entry", "run_id": "run", "label_id": "label", "key": "key", "slug": "slug",
        "channel": "channel", "code": "code",
    }.get(name, name)  # fmt: skip


NOT_OBJECTS = {"label", "key", "slug", "channel", "code"}  # config, reports, signed/public endpoints


def fill(route: str, values: dict[str, Any]) -> str:
    return "/" + PARAM.sub(lambda m: str(values[m.group("name")]), route)


# ------------------------------------------------------------------------------------------------
# data set-up inside the instance (through the app's own services, as the supervisor)


def fixtures() -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from kefu.aftersales import services as after
    from kefu.aftersales.models import Case
    from kefu.commerce.models import Order
    from kefu.core.imports import run_start
    from kefu.desk import services as desk
    from kefu.org.models import Shop, Staff, Team
    from kefu.service import services as field
    from kefu.workflow.models import StatusLabel

    users = {u.username: u for u in get_user_model().objects.all()}
    boss = users["zhuguan"]
    teams = {t.pk: sorted(t.shops.values_list("id", flat=True)) for t in Team.objects.all()}
    shop_of_team = {tid: Shop.objects.get(pk=shops[0]) for tid, shops in teams.items()}
    made: dict[str, Any] = {}
    today = dt.date.today()
    for tid, shop in shop_of_team.items():
        made[f"widget_{tid}"] = desk.channel_create(
            actor=boss, code=f"w-probe-{tid}", name=f"probe {tid}", kind="widget", shop=shop,
            origins=[f"https://shop{tid}.example"],
        ).code  # fmt: skip
        agreement = field.agreement_create(
            actor=boss, shop=shop, customer_name=f"协议客户{tid}", contact_name="陈", contact_phone="1",
            products=[{"product": "投影机 X1", "serial_no": f"PROBE-{tid}"}], starts_on=today - dt.timedelta(days=30),
            ends_on=today + dt.timedelta(days=330), fee=Decimal("1200.00"), billing="quarterly",
        )  # fmt: skip
        field.agreement_review(actor=boss, agreement=agreement)
        orders = list(Order.objects.filter(shop=shop, paid_amount__gt=0).order_by("id")[:3])
        lost = after.case_open(actor=boss, case_type="lost_parcel", order=orders[0])
        after.claim_open(actor=boss, case=lost, courier="中通快递")
        after.review_record(actor=boss, shop=shop, content=f"差评 probe {tid}", rating=1)
        lead = Staff.objects.filter(team_id=tid, position="team_lead", user__isnull=False).first()
        run_start(kind="orders", file_name=f"probe-{tid}.csv", data=b"x", actor=lead.user, params={})
    waiting = (
        StatusLabel.objects.filter(workflow="aftersales.case", category="waiting_warehouse").order_by("id").first()
    )
    for _tid, shops in teams.items():
        for case in Case.objects.filter(shop_id__in=shops, status__category="open").order_by("id")[:2]:
            after.case_transition(actor=boss, case=case, status=waiting)
    # the technicians' requests reach a customer and an order of their shops (their work)
    with connection.cursor() as c:
        for tech in Staff.objects.filter(position="technician"):
            c.execute(
                "UPDATE service_servicerequest r SET customer_id = o.customer_id, order_id = o.id FROM ("
                " SELECT r2.id rid, (SELECT o2.id FROM commerce_order o2 WHERE o2.shop_id = r2.shop_id AND"
                "  o2.customer_id IS NOT NULL ORDER BY o2.id OFFSET r2.id %% 7 LIMIT 1) oid FROM service_servicerequest r2"
                " WHERE r2.technician_id = %s ORDER BY r2.id LIMIT 3) x JOIN commerce_order o ON o.id = x.oid"
                " WHERE r.id = x.rid",
                [tech.pk],
            )
        # markers: unique private values per object, so any response can be attributed
        c.execute("UPDATE commerce_customer SET phone = '171' || lpad(id::text, 8, '0')")
        c.execute("UPDATE commerce_order SET receiver_phone = '172' || lpad(id::text, 8, '0')")
        c.execute("UPDATE service_servicerequest SET contact_phone = '173' || lpad(id::text, 8, '0')")
        c.execute("UPDATE care_complaint SET contact_phone = '174' || lpad(id::text, 8, '0')")
        c.execute("UPDATE service_agreement SET contact_phone = '175' || lpad(id::text, 8, '0')")
        c.execute("UPDATE org_staff SET base_salary = 9000 + id + 0.37")
    from kefu.org.services import token_create

    made["tokens"] = {u: token_create(actor=users[u], user=users[u], name="probe") for u in ROLES}
    made["user_ids"] = {u: users[u].pk for u in ROLES}
    return made


class Truth:
    """Who may see what — written from docs/roles.md, independently of kefu.core.scoping."""

    def __init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        from django.contrib.auth import get_user_model

        from kefu.aftersales.models import Case, CourierClaim, Evidence, MoneyLine, NegativeReview
        from kefu.care.models import Complaint, ReturnVisit
        from kefu.commerce.models import Customer, Order, Product
        from kefu.core.models import ImportRun
        from kefu.desk.models import Conversation, Script
        from kefu.org.models import Shop, Staff, Team
        from kefu.service.models import Agreement, AgreementBill, PlanItem, ServiceRequest
        from kefu.workforce.models import LeaveRequest, PointEntry, RedPacket

        self.team_shops = {t.pk: set(t.shops.values_list("id", flat=True)) for t in Team.objects.all()}
        self.shop_team = {s: t for t, shops in self.team_shops.items() for s in shops}
        self.staff = {s.pk: s for s in Staff.objects.select_related("user")}
        self.staff_team = {s.pk: s.team_id for s in self.staff.values()}
        self.user_staff = {s.user.username: s for s in self.staff.values() if s.user}
        self.user_team = {s.user_id: s.team_id for s in self.staff.values() if s.user_id}
        self.user_ids = dict(get_user_model().objects.values_list("username", "id"))
        self.orders = dict(Order.objects.values_list("id", "shop_id"))
        self.order_customer = dict(Order.objects.values_list("id", "customer_id"))
        self.order_no = {no: oid for oid, no in Order.objects.values_list("id", "order_no")}
        self.customer_shops: dict[int, set[int]] = collections.defaultdict(set)
        for cid, sid in Order.objects.exclude(customer=None).values_list("customer_id", "shop_id"):
            self.customer_shops[cid].add(sid)
        for cid, sid in Customer.objects.exclude(home_shop=None).values_list("id", "home_shop_id"):
            self.customer_shops[cid].add(sid)
        self.customer_agent = dict(Customer.objects.values_list("id", "assigned_agent_id"))
        self.customers = set(Customer.objects.values_list("id", flat=True))
        self.products = dict(Product.objects.values_list("id", "shop_id"))
        self.cases = {
            c.pk: (c.shop_id, c.status.category, c.order_id, c.customer_id)
            for c in Case.objects.select_related("status")
        }
        self.lines = dict(MoneyLine.objects.values_list("id", "case_id"))
        self.claims = dict(CourierClaim.objects.values_list("id", "case_id"))
        self.evidence = dict(Evidence.objects.values_list("id", "case_id"))
        self.reviews = dict(NegativeReview.objects.values_list("id", "shop_id"))
        self.services = {
            r[0]: (r[1], r[2], r[3], r[4], r[5])
            for r in ServiceRequest.objects.values_list(
                "id", "shop_id", "technician_id", "customer_id", "order_id", "agreement_id"
            )
        }
        self.agreements = dict(Agreement.objects.values_list("id", "shop_id"))
        self.items = dict(PlanItem.objects.values_list("id", "agreement_id"))
        self.bills = dict(AgreementBill.objects.values_list("id", "agreement_id"))
        self.complaints = dict(Complaint.objects.values_list("id", "shop_id"))
        self.visits = {v[0]: (v[1], v[2]) for v in ReturnVisit.objects.values_list("id", "agent_id", "customer_id")}
        self.conversations = dict(Conversation.objects.values_list("id", "shop_id"))
        self.scripts = dict(Script.objects.values_list("id", "shop_id"))
        self.leaves = dict(LeaveRequest.objects.values_list("id", "staff_id"))
        self.packets = dict(RedPacket.objects.values_list("id", "staff_id"))
        self.entries = dict(PointEntry.objects.values_list("id", "staff_id"))
        self.runs = dict(ImportRun.objects.values_list("id", "actor_id"))
        self.shops = set(Shop.objects.values_list("id", flat=True))
        self.teams = set(self.team_shops)

    # -- who is who
    def me(self, username: str) -> Any:
        return self.user_staff[username]

    def shops_of(self, username: str) -> set[int]:
        s = self.me(username)
        return set(self.team_shops.get(s.team_id, set()))

    def position(self, username: str) -> str:
        return str(self.me(username).position)

    # -- the rules: may `username` read object `oid` of `kind`? Returns "ok", or why not:
    #    "cross-team" (it is the other team's), "outside-work" (own team, not a technician's or the
    #    warehouse contact's work), "personal" (a colleague's personal record)
    def verdict(self, username: str, kind: str, oid: int) -> str:
        if username in ALL_SEEING:
            return "ok"
        me = self.me(username)
        pos, team, shops = str(me.position), me.team_id, self.shops_of(username)
        work = pos in ("technician", "warehouse")

        def by_shop(shop_id: int | None) -> str:
            if shop_id in shops:
                return "outside-work" if work else "ok"
            return "cross-team"

        def by_team_of_staff(staff_id: int | None, personal: bool) -> str:
            if staff_id == me.pk:
                return "ok"
            if self.staff_team.get(staff_id) != team:
                return "cross-team"
            if personal and (work or pos != "team_lead"):
                return "personal"
            return "ok"

        waiting_cases = {
            cid for cid, (sid, cat, _o, _c) in self.cases.items() if cat == "waiting_warehouse" and sid in shops
        }
        my_requests = {rid for rid, (_s, tech, *_r) in self.services.items() if tech == me.pk}
        if kind == "shop":
            return "ok" if oid in shops else "cross-team"
        if kind == "team":
            return "ok" if oid == team else "cross-team"
        if kind == "product":
            return "ok" if self.products.get(oid) in shops else "cross-team"
        if kind == "staff":
            return "ok" if self.staff_team.get(oid) == team or oid == me.pk else "cross-team"
        if kind == "order":
            if pos == "technician":
                return (
                    "ok"
                    if any(self.services[r][3] == oid for r in my_requests)
                    else self._where(self.orders.get(oid), shops)
                )
            if pos == "warehouse":
                return (
                    "ok"
                    if any(self.cases[c][2] == oid for c in waiting_cases)
                    else self._where(self.orders.get(oid), shops)
                )
            return by_shop(self.orders.get(oid))
        if kind == "customer":
            cshops = self.customer_shops.get(oid, set())
            if pos == "technician":
                if any(self.services[r][2] == oid for r in my_requests):
                    return "ok"
                return "outside-work" if cshops & shops else "cross-team"
            if pos == "warehouse":
                if any(
                    self.cases[c][3] == oid or self.order_customer.get(self.cases[c][2]) == oid for c in waiting_cases
                ):
                    return "ok"
                return "outside-work" if cshops & shops else "cross-team"
            return "ok" if cshops & shops else "cross-team"
        if kind in ("case", "line", "claim", "evidence"):
            cid = {"case": lambda: oid, "line": lambda: self.lines.get(oid), "claim": lambda: self.claims.get(oid),
                   "evidence": lambda: self.evidence.get(oid)}[kind]()  # fmt: skip
            shop = self.cases.get(cid, (None,))[0]
            if pos == "warehouse" and kind in ("case", "evidence") and cid in waiting_cases:
                return "ok"
            return by_shop(shop)
        if kind == "review":
            return by_shop(self.reviews.get(oid))
        if kind == "service":
            shop, tech = self.services.get(oid, (None, None, None, None, None))[:2]
            if tech == me.pk:
                return "ok"
            return by_shop(shop)
        if kind in ("agreement", "item", "bill"):
            aid = oid if kind == "agreement" else (self.items if kind == "item" else self.bills).get(oid)
            return by_shop(self.agreements.get(aid))
        if kind == "complaint":
            return by_shop(self.complaints.get(oid))
        if kind == "visit":
            agent, _customer = self.visits.get(oid, (None, None))
            if self.staff_team.get(agent) != team:
                return "cross-team"
            return "outside-work" if work else "ok"
        if kind == "conversation":
            return by_shop(self.conversations.get(oid))
        if kind == "script":
            shop = self.scripts.get(oid)
            return "ok" if shop is None and not work else by_shop(shop)
        if kind == "leave":
            return by_team_of_staff(self.leaves.get(oid), personal=True)
        if kind in ("packet", "entry"):
            # red packets and inspection points: the code scopes them by team (the team's group
            # sees them); docs/roles.md says agents see their own — a colleague's is "personal"
            return by_team_of_staff((self.packets if kind == "packet" else self.entries).get(oid), personal=True)
        if kind == "run":
            actor = self.runs.get(oid)
            if actor == self.user_ids.get(username):
                return "ok"
            return "cross-team" if self.user_team.get(actor) != team else "personal"
        return "ok"

    def _where(self, shop: int | None, shops: set[int]) -> str:
        return "outside-work" if shop in shops else "cross-team"

    def ids(self, kind: str) -> list[int]:
        table = {
            "shop": self.shops, "team": self.teams, "product": self.products, "staff": self.staff,
            "order": self.orders, "customer": self.customers, "case": self.cases, "line": self.lines,
            "claim": self.claims, "evidence": self.evidence, "review": self.reviews, "service": self.services,
            "agreement": self.agreements, "item": self.items, "bill": self.bills, "complaint": self.complaints,
            "visit": self.visits, "conversation": self.conversations, "script": self.scripts,
            "leave": self.leaves, "packet": self.packets, "entry": self.entries, "run": self.runs,
        }[kind]  # fmt: skip
        return sorted(table)

    def samples(self, username: str, kind: str, per_reason: int = 2, seed: int = 0) -> list[tuple[int, str]]:
        """Objects of ``kind`` the role may not read: up to ``per_reason`` of each reason."""
        rnd = random.Random(f"{username}:{kind}:{seed}")
        buckets: dict[str, list[int]] = collections.defaultdict(list)
        for oid in self.ids(kind):
            why = self.verdict(username, kind, oid)
            if why != "ok":
                buckets[why].append(oid)
        out: list[tuple[int, str]] = []
        for why, ids in sorted(buckets.items()):
            picked = [ids[0], ids[-1]] if len(ids) > 1 else ids
            if per_reason > 2 and len(ids) > 2:
                picked += rnd.sample(ids[1:-1], min(per_reason - 2, len(ids) - 2))
            out += [(i, why) for i in dict.fromkeys(picked[:per_reason] if per_reason <= 2 else picked)]
        return out

    def allowed(self, username: str, kind: str) -> list[int]:
        return [oid for oid in self.ids(kind) if self.verdict(username, kind, oid) == "ok"]

    # -- private markers in a response body
    def marker_verdict(self, username: str, kind: str, oid: int) -> str:
        if username in ALL_SEEING:
            return "ok"
        if kind == "salary":
            return "ok" if oid == self.me(username).pk else (
                "cross-team" if self.staff_team.get(oid) != self.me(username).team_id else "personal")  # fmt: skip
        if kind == "customer":
            why = self.verdict(username, "customer", oid)
            if why != "ok":
                return why
            agent = self.customer_agent.get(oid)  # the phone stays with the team of the customer's agent
            if agent is not None and self.staff_team.get(agent) != self.me(username).team_id:
                return "cross-team"
            return "ok"
        if kind == "agreement":
            me = self.me(username)
            if str(me.position) == "technician" and any(r[4] == oid for r in self.services.values() if r[1] == me.pk):
                return "ok"
        return self.verdict(username, kind, oid)

    def scan(self, username: str, body: str) -> list[tuple[str, int, str]]:
        """Private markers in ``body``: (kind, id, "ok" or why the role may not see it)."""
        found: list[tuple[str, int, str]] = []
        if username in ALL_SEEING:
            return found
        for m in set(PHONE.findall(body)):
            kind, oid = MARKER_KIND[m[0]], int(m[1])
            found.append((kind, oid, self.marker_verdict(username, kind, oid)))
        for sid in set(SALARY.findall(body)):
            if int(sid) in self.staff:
                found.append(("salary", int(sid), self.marker_verdict(username, "salary", int(sid))))
        for no in set(ORDER_NO.findall(body)):
            oid = self.order_no.get(no)
            if oid is not None:
                found.append(("order_no", oid, self.verdict(username, "order", oid)))
        return found


def body_text(a: Answer) -> str:
    """The text of a response; XLSX/ZIP exports unpacked (their XML parts)."""
    ctype = a.headers.get("Content-Type", "")
    if a.body[:2] == b"PK" and ("spreadsheet" in ctype or "zip" in ctype or "octet" in ctype):
        try:
            with zipfile.ZipFile(io.BytesIO(a.body)) as z:
                return "\n".join(
                    z.read(n).decode("utf-8", errors="replace")
                    for n in z.namelist()
                    if n.endswith((".xml", ".txt", ".csv", ".json"))
                )
        except (zipfile.BadZipFile, KeyError, OSError):
            return ""
    if ctype.startswith("application/pdf"):
        return a.body.decode("latin-1", errors="replace")
    return a.text()


# ------------------------------------------------------------------------------------------------
# database footprints (psycopg, autocommit): what a write could have changed


class Footprint:
    def __init__(self, dsn: str) -> None:
        import psycopg

        self.conn = psycopg.connect(dsn, autocommit=True)
        self.lock = threading.Lock()

    def q(self, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        with self.lock, self.conn.cursor() as c:
            c.execute(sql, args)
            return c.fetchall() if c.description else []

    def one(self, sql: str, args: Any = None) -> Any:
        rows = self.q(sql, args)
        return rows[0][0] if rows else None

    def hash_of(self, queries: list[tuple[str, Any]]) -> str:
        h = hashlib.md5()
        for sql, args in queries:
            for row in self.q(sql, args):
                h.update(repr(row).encode())
            h.update(b"|")
        return h.hexdigest()

    TARGET = {
        "case": ["aftersales_case WHERE id = %(id)s", "aftersales_moneyline WHERE case_id = %(id)s",
                 "aftersales_courierclaim WHERE case_id = %(id)s", "aftersales_evidence WHERE case_id = %(id)s",
                 "aftersales_agentcharge WHERE case_id = %(id)s"],
        "line": ["aftersales_moneyline WHERE id = %(id)s",
                 "aftersales_case WHERE id = (SELECT case_id FROM aftersales_moneyline WHERE id = %(id)s)"],
        "claim": ["aftersales_courierclaim WHERE id = %(id)s",
                  "aftersales_moneyline WHERE case_id = (SELECT case_id FROM aftersales_courierclaim WHERE id = %(id)s)"],
        "review": ["aftersales_negativereview WHERE id = %(id)s"],
        "evidence": ["aftersales_evidence WHERE id = %(id)s"],
        "order": ["commerce_order WHERE id = %(id)s", "aftersales_shipmentchase WHERE order_id = %(id)s",
                  "aftersales_case WHERE order_id = %(id)s"],
        "customer": ["commerce_customer WHERE id = %(id)s", "care_assignment WHERE customer_id = %(id)s",
                     "care_returnvisit WHERE customer_id = %(id)s"],
        "service": ["service_servicerequest WHERE id = %(id)s", "service_stockentry WHERE request_id = %(id)s"],
        "agreement": ["service_agreement WHERE id = %(id)s", "service_agreementbill WHERE agreement_id = %(id)s",
                      "service_planitem WHERE agreement_id = %(id)s"],
        "item": ["service_planitem WHERE id = %(id)s",
                 "service_servicerequest WHERE agreement_id = (SELECT agreement_id FROM service_planitem WHERE id = %(id)s)"],
        "bill": ["service_agreementbill WHERE id = %(id)s"],
        "complaint": ["care_complaint WHERE id = %(id)s", "care_returnvisit WHERE complaint_id = %(id)s"],
        "visit": ["care_returnvisit WHERE id = %(id)s"],
        "conversation": ["desk_conversation WHERE id = %(id)s", "desk_message WHERE conversation_id = %(id)s",
                         "desk_followup WHERE conversation_id = %(id)s", "desk_question WHERE conversation_id = %(id)s"],
        "script": ["desk_script WHERE id = %(id)s"],
        "staff": ["org_staff WHERE id = %(id)s", "auth_user WHERE id = (SELECT user_id FROM org_staff WHERE id = %(id)s)"],
        "leave": ["workforce_leaverequest WHERE id = %(id)s"],
        "packet": ["workforce_redpacket WHERE id = %(id)s", "workforce_redpacketentry WHERE packet_id = %(id)s"],
        "entry": ["workforce_pointentry WHERE id = %(id)s", "workforce_pointentry WHERE reverses_id = %(id)s"],
        "shop": ["org_shop WHERE id = %(id)s"], "team": ["org_team WHERE id = %(id)s"],
        "product": ["commerce_product WHERE id = %(id)s"], "run": ["core_importrun WHERE id = %(id)s"],
    }  # fmt: skip

    def target(self, kind: str, oid: int) -> str:
        return self.hash_of([(f"SELECT t::text FROM {q.split(' WHERE ', 1)[0]} t WHERE {q.split(' WHERE ', 1)[1]} ORDER BY 1",
                              {"id": oid}) for q in self.TARGET.get(kind, [])])  # fmt: skip

    def team(self, shops: list[int], staff: list[int], team: int, exclude_staff: int = 0) -> str:
        """Everything of one team a write could leave behind (rows of its shops and its people)."""
        a = {"shops": shops, "staff": [s for s in staff if s != exclude_staff], "team": team}
        tables = [
            "aftersales_case t WHERE shop_id = ANY(%(shops)s) OR owner_id = ANY(%(staff)s) OR responsible_staff_id = ANY(%(staff)s)",
            "aftersales_moneyline t WHERE case_id IN (SELECT id FROM aftersales_case WHERE shop_id = ANY(%(shops)s))",
            "aftersales_courierclaim t WHERE case_id IN (SELECT id FROM aftersales_case WHERE shop_id = ANY(%(shops)s))",
            "aftersales_evidence t WHERE case_id IN (SELECT id FROM aftersales_case WHERE shop_id = ANY(%(shops)s))",
            "aftersales_agentcharge t WHERE staff_id = ANY(%(staff)s)",
            "aftersales_negativereview t WHERE shop_id = ANY(%(shops)s)",
            "aftersales_shipmentchase t WHERE order_id IN (SELECT id FROM commerce_order WHERE shop_id = ANY(%(shops)s))",
            "aftersales_refundapprover t WHERE staff_id = ANY(%(staff)s)",
            "aftersales_shoprating t WHERE shop_id = ANY(%(shops)s)",
            "commerce_order t WHERE shop_id = ANY(%(shops)s)",
            "commerce_product t WHERE shop_id = ANY(%(shops)s)",
            "commerce_customer t WHERE assigned_agent_id = ANY(%(staff)s) OR home_shop_id = ANY(%(shops)s)",
            "desk_conversation t WHERE shop_id = ANY(%(shops)s) OR owner_id = ANY(%(staff)s) OR team_id = %(team)s",
            "desk_message t WHERE shop_id = ANY(%(shops)s)",
            "desk_script t WHERE shop_id = ANY(%(shops)s)",
            "desk_question t WHERE shop_id = ANY(%(shops)s)",
            "desk_followup t WHERE shop_id = ANY(%(shops)s) OR owner_id = ANY(%(staff)s)",
            "desk_paymentchase t WHERE shop_id = ANY(%(shops)s)",
            "desk_channel t WHERE shop_id = ANY(%(shops)s)",
            "service_servicerequest t WHERE shop_id = ANY(%(shops)s) OR technician_id = ANY(%(staff)s) OR owner_id = ANY(%(staff)s)",
            "service_stockentry t WHERE request_id IN (SELECT id FROM service_servicerequest WHERE shop_id = ANY(%(shops)s))",
            "service_agreement t WHERE shop_id = ANY(%(shops)s)",
            "service_agreementbill t WHERE agreement_id IN (SELECT id FROM service_agreement WHERE shop_id = ANY(%(shops)s))",
            "service_planitem t WHERE agreement_id IN (SELECT id FROM service_agreement WHERE shop_id = ANY(%(shops)s))",
            "care_complaint t WHERE shop_id = ANY(%(shops)s) OR owner_id = ANY(%(staff)s)",
            "care_returnvisit t WHERE agent_id = ANY(%(staff)s)",
            "care_assignment t WHERE agent_id = ANY(%(staff)s)",
            "org_staff t WHERE id = ANY(%(staff)s)",
            "org_team t WHERE id = %(team)s",
            "org_team_shops t WHERE team_id = %(team)s",
            "org_shop t WHERE id = ANY(%(shops)s)",
            "workforce_rosterentry t WHERE staff_id = ANY(%(staff)s)",
            "workforce_punch t WHERE staff_id = ANY(%(staff)s)",
            "workforce_leaverequest t WHERE staff_id = ANY(%(staff)s)",
            "workforce_redpacket t WHERE staff_id = ANY(%(staff)s)",
            "workforce_redpacketentry t WHERE packet_id IN (SELECT id FROM workforce_redpacket WHERE staff_id = ANY(%(staff)s))",
            "workforce_pointentry t WHERE staff_id = ANY(%(staff)s)",
            "workforce_teaminspection t WHERE team_id = %(team)s",
            "core_importrun t WHERE actor_id IN (SELECT user_id FROM org_staff WHERE id = ANY(%(staff)s))",
        ]
        return self.hash_of([(f"SELECT t::text FROM {q} ORDER BY 1", a) for q in tables])

    def team_tables(self, shops: list[int], staff: list[int], team: int, exclude_staff: int = 0) -> dict[str, str]:
        """The same, per table (to say which changed)."""
        a = {"shops": shops, "staff": [s for s in staff if s != exclude_staff], "team": team}
        out = {}
        for table, cond in [
            ("aftersales_case", "shop_id = ANY(%(shops)s) OR owner_id = ANY(%(staff)s) OR responsible_staff_id = ANY(%(staff)s)"),
            ("commerce_order", "shop_id = ANY(%(shops)s)"), ("desk_conversation", "shop_id = ANY(%(shops)s) OR owner_id = ANY(%(staff)s)"),
            ("desk_message", "shop_id = ANY(%(shops)s)"), ("service_servicerequest", "shop_id = ANY(%(shops)s) OR technician_id = ANY(%(staff)s)"),
            ("care_complaint", "shop_id = ANY(%(shops)s) OR owner_id = ANY(%(staff)s)"), ("org_staff", "id = ANY(%(staff)s)"),
            ("workforce_pointentry", "staff_id = ANY(%(staff)s)"), ("workforce_rosterentry", "staff_id = ANY(%(staff)s)"),
            ("workforce_punch", "staff_id = ANY(%(staff)s)"), ("workforce_leaverequest", "staff_id = ANY(%(staff)s)"),
            ("care_returnvisit", "agent_id = ANY(%(staff)s)"), ("care_assignment", "agent_id = ANY(%(staff)s)"),
            ("desk_followup", "shop_id = ANY(%(shops)s) OR owner_id = ANY(%(staff)s)"), ("desk_script", "shop_id = ANY(%(shops)s)"),
            ("aftersales_negativereview", "shop_id = ANY(%(shops)s)"), ("service_agreement", "shop_id = ANY(%(shops)s)"),
            ("aftersales_refundapprover", "staff_id = ANY(%(staff)s)"), ("aftersales_agentcharge", "staff_id = ANY(%(staff)s)"),
            ("aftersales_shoprating", "shop_id = ANY(%(shops)s)"), ("desk_channel", "shop_id = ANY(%(shops)s)"),
        ]:  # fmt: skip
            out[table] = self.hash_of([(f"SELECT t::text FROM {table} t WHERE {cond} ORDER BY 1", a)])
        return out

    def events_after(self, last_id: int, user_id: int) -> list[tuple[Any, ...]]:
        return self.q(
            "SELECT id, verb, subject_type_id, subject_id FROM core_event WHERE id > %s AND actor_id = %s"
            " AND verb NOT LIKE 'auth.%%' ORDER BY id",
            (last_id, user_id),
        )

    def last_event(self) -> int:
        return int(self.one("SELECT COALESCE(MAX(id), 0) FROM core_event"))


# ------------------------------------------------------------------------------------------------
# 1. cross-team reads


LIST_FILTERS = ["shop", "team", "staff", "technician", "agent", "owner", "customer", "order"]


def phase_reads(ctx: dict[str, Any]) -> dict[str, Any]:
    truth: Truth = ctx["truth"]
    who: dict[str, Who] = ctx["who"]
    routes = ctx["routes"]
    object_routes = [r for r in routes if PARAM.search(r)]
    res: dict[str, Any] = {
        "object_routes": len(object_routes), "roles": 0, "requests": 0, "route_role_pairs": 0, "leaks": [],
        "leaks_by_reason": collections.Counter(), "status": collections.Counter(), "post_only_routes": set(),
        "markers": [], "markers_by_reason": collections.Counter(), "list_requests": 0, "5xx": [],
        "not_object_200": [], "markers_ok": 0, "markers_ok_by_kind": collections.Counter(), "object_status": collections.Counter(), "controls": collections.Counter(), "controls_not_200": [],
    }  # fmt: skip
    walked_roles = [u for u in ROLES if u not in ALL_SEEING]
    res["roles"] = len(walked_roles)
    jobs: list[tuple[str, str, str, list[tuple[str, int, str]]]] = []
    controls: list[tuple[str, str, str]] = []
    for username in walked_roles:
        for route in object_routes:
            names = [m.group("name") for m in PARAM.finditer(route)]
            kinds = [kind_of(route, n) for n in names]
            res["route_role_pairs"] += 1
            if any(k in NOT_OBJECTS for k in kinds):
                # not scoped objects: status labels (capability), reports, signed webhook, public widget
                values = {n: _not_object_value(k, truth) for n, k in zip(names, kinds, strict=False)}
                jobs.append((username, route, fill(route, values), []))
                continue
            primary = kinds[-1]
            for oid, why in truth.samples(username, primary, per_reason=ctx["args"].per_reason):
                values = {names[-1]: oid}
                jobs.append((username, route, fill(route, values), [(primary, oid, why)]))
            inside = truth.allowed(username, primary)
            if inside:  # the control: an object in scope answers (so a 404 above means something)
                controls.append((username, route, fill(route, {names[-1]: inside[len(inside) // 2]})))

    def run(job: tuple[str, str, str, list[tuple[str, int, str]]]) -> None:
        username, route, path, objs = job
        a = http("GET", path, who[username], session_auth=not path.startswith("/api/"))
        if path.startswith("/api/") and a.status in (401, 403):
            a2 = http("GET", path, who[username])  # the API answers the session too
            a = a2 if a2.status not in (401, 403) else a
        with lock:
            res["requests"] += 1
            res["status"][a.status] += 1
            res["object_status"][a.status] += 1
        if a.status == 405:
            with lock:
                res["post_only_routes"].add(route)
            return
        if a.status >= 500 or a.status == 0:
            with lock:
                res["5xx"].append({"role": username, "GET": path, "status": a.status, "body": a.text()[:200]})
        if objs and 200 <= a.status < 300:
            for kind, oid, why in objs:
                with lock:
                    res["leaks"].append({"role": username, "GET": path, "status": a.status, "object": f"{kind}:{oid}",
                                         "reason": why, "body": a.text()[:160]})  # fmt: skip
                    res["leaks_by_reason"][why] += 1
        if not objs and 200 <= a.status < 300 and not route.startswith(("desk/widget/", "reports/")):
            with lock:
                res["not_object_200"].append({"role": username, "GET": path, "status": a.status})
        _scan(truth, username, f"GET {path}", a, res, lock)

    def control(job: tuple[str, str, str]) -> None:
        username, _route, path = job
        a = http("GET", path, who[username], session_auth=not path.startswith("/api/"))
        with lock:
            res["controls"][a.status] += 1
            if a.status not in (200, 405):
                res["controls_not_200"].append({"role": username, "GET": path, "status": a.status})
            if a.status >= 500 or a.status == 0:
                res["5xx"].append({"role": username, "GET (control)": path, "status": a.status, "body": a.text()[:200]})

    lock = threading.Lock()
    with ThreadPoolExecutor(ctx["args"].threads) as pool:
        list(pool.map(run, jobs))
        list(pool.map(control, controls))
    log(f"reads: {res['requests']} object-route requests over {len(object_routes)} routes × {len(walked_roles)} roles;"
        f" leaks {len(res['leaks'])}")  # fmt: skip

    # lists, exports, searches and API lists, with the other team's ids as filters: markers only
    list_jobs: list[tuple[str, str, dict[str, Any]]] = []
    plain = [
        r for r in routes if not PARAM.search(r) and not r.startswith(("i18n/", "logout/", "login/", "desk/stream/"))
    ]
    for username in walked_roles:
        other_team = [t for t in truth.teams if t != truth.me(username).team_id]
        o_team = other_team[0] if other_team else 0
        o_shops = sorted(truth.team_shops.get(o_team, set()))
        o_staff = [s for s, t in truth.staff_team.items() if t == o_team]
        o_order = next((oid for oid, sid in truth.orders.items() if sid in o_shops), 0)
        o_no = next((no for no, oid in truth.order_no.items() if oid == o_order), "")
        o_customer = truth.order_customer.get(o_order) or 0
        o_tech = next((s for s in o_staff if str(truth.staff[s].position) == "technician"), 0)
        for route in plain:
            path = "/" + route
            list_jobs.append((username, path, {}))
            if route.startswith("api/v1/openapi") or route in ("api/v1/docs", "api/v1/"):
                continue
            variants: list[dict[str, Any]] = [
                {"export": "xlsx"}, {"format": "xlsx"}, {"format": "csv"}, {"format": "json"},
                {"shop": o_shops[0] if o_shops else 0, "team": o_team, "staff": o_staff[0] if o_staff else 0,
                 "technician": o_tech, "agent": o_staff[0] if o_staff else 0, "customer": o_customer, "order": o_order},
                {"q": o_no}, {"q": f"172{o_order:08d}"}, {"q": f"171{o_customer:08d}"},
                {"shop": o_shops[-1] if o_shops else 0, "limit": 200}, {"team": o_team, "month": dt.date.today().strftime("%Y-%m")},
            ]  # fmt: skip
            for v in variants:
                list_jobs.append((username, path, v))
        for slug in ctx["report_slugs"]:
            for v in ({}, {"format": "csv"}, {"shop": o_shops[0] if o_shops else 0}, {"team": o_team, "format": "csv"}):
                list_jobs.append((username, f"/reports/{slug}/", v))
                list_jobs.append((username, f"/api/v1/reports/{slug}", v))

    def run_list(job: tuple[str, str, dict[str, Any]]) -> None:
        username, path, params = job
        api = path.startswith("/api/")
        a = http("GET", path, who[username], params=params or None, session_auth=not api)
        with lock:
            res["list_requests"] += 1
            res["status"][a.status] += 1
        if a.status >= 500 or a.status == 0:
            with lock:
                res["5xx"].append(
                    {"role": username, "GET": path, "params": params, "status": a.status, "body": a.text()[:200]}
                )
        _scan(
            truth,
            username,
            f"GET {path} {json.dumps(params, ensure_ascii=False)}",
            a,
            res,
            lock,
            echo=tuple(str(v) for v in params.values()),
        )

    with ThreadPoolExecutor(ctx["args"].threads) as pool:
        list(pool.map(run_list, list_jobs))
    res["post_only_routes"] = len(res["post_only_routes"])
    log(f"reads: {res['list_requests']} list/export/search requests; private markers seen {len(res['markers'])}")
    return res


def _not_object_value(kind: str, truth: Truth) -> Any:
    if kind == "label":
        from kefu.workflow.models import StatusLabel

        return StatusLabel.objects.order_by("id").values_list("id", flat=True).first()
    return {"key": "aftersales.case", "slug": "no-such-report", "channel": "qianniu", "code": "no-such-widget"}[kind]


def _scan(truth: Truth, username: str, what: str, a: Answer, res: dict[str, Any], lock: threading.Lock,
          echo: tuple[str, ...] = ()) -> None:  # fmt: skip
    """Markers in the answer, except what the request itself said (a search box shows its query)."""
    if not a.body:
        return
    text = body_text(a)
    for value in echo:
        if value and len(value) >= 6:
            text = text.replace(value, "")
    for kind, oid, why in truth.scan(username, text):
        if why == "ok":
            with lock:
                res["markers_ok"] += 1
                res["markers_ok_by_kind"][kind] += 1
            continue
        with lock:
            res["markers"].append(
                {"role": username, "request": what, "status": a.status, "marker": f"{kind}:{oid}", "reason": why}
            )
            res["markers_by_reason"][why] += 1


# ------------------------------------------------------------------------------------------------
# 2. cross-team writes


def future_local(days: int = 3, hour: int = 10) -> str:
    d = dt.date.today() + dt.timedelta(days=days)
    while d.weekday() >= 5:
        d += dt.timedelta(days=1)
    return f"{d.isoformat()}T{hour:02d}:00"


def object_write_body(route: str, ctx: dict[str, Any], username: str) -> tuple[str, Any]:
    """("form"|"json"|"files", body) a user in scope would send on this route."""
    truth: Truth = ctx["truth"]
    me = truth.me(username)
    mates = [s for s, t in truth.staff_team.items() if t == me.team_id and s != me.pk] or [me.pk]
    tech = next(
        (s for s, st in truth.staff.items() if st.team_id == me.team_id and str(st.position) == "technician"), me.pk
    )
    key = secrets.token_hex(8)
    at = future_local(4, 10)
    api = route.startswith("api/")
    table: dict[str, Any] = {
        "desk/scripts/<int:script_id>/use/": {},
        "desk/<int:conversation_id>/reply/": {"text": "probe reply", "idempotency_key": key},
        "desk/<int:conversation_id>/transfer/": {"staff": mates[0], "note": "probe"},
        "desk/<int:conversation_id>/close/": {},
        "aftersales/refunds/<int:line_id>/decide/": {"decision": "approve"},
        "aftersales/claims/<int:claim_id>/": {"status": "paid", "recovered": "1.00", "note": "probe"},
        "aftersales/reviews/<int:review_id>/reply/": {"reply": "probe reply", "feedback_reason": ""},
        "aftersales/orders/<int:order_id>/chase/": {"note": "probe"},
        "aftersales/<int:case_id>/facts/": {"line_value": "10", "responsibility": ""},
        "aftersales/<int:case_id>/transition/": {"status": ctx["label_ids"].get("处理中", 2), "note": "probe"},
        "aftersales/<int:case_id>/step/": {"step": "contact_buyer", "done": "1"},
        "aftersales/<int:case_id>/evidence/": ("files", {"kind": "photo", "note": "probe"}),
        "aftersales/<int:case_id>/resolution/": {"code": "refund_full"},
        "aftersales/<int:case_id>/money/": {"kind": "coupon", "amount": "1.00", "note": "probe", "idempotency_key": key},
        "aftersales/<int:case_id>/claim/": {"courier": "中通快递"},
        "aftersales/<int:case_id>/responsible/": {"staff": mates[0]},
        "service/plan/<int:item_id>/": {"state": "reviewed"},
        "service/bills/<int:bill_id>/": {},
        "service/<int:service_id>/evaluate/": {},
        "service/<int:service_id>/appoint/": {"technician": tech, "at": at, "reason": ""},
        "service/<int:service_id>/arrive/": {},
        "service/<int:service_id>/diagnose/": {"diagnosis": "probe", "consent": "1", "fault_cause": ""},
        "service/<int:service_id>/step/": {"step": "check_power", "done": "1"},
        "service/<int:service_id>/parts/": {"part": ctx["part_id"], "quantity": "1", "action": "issue", "idempotency_key": key},
        "service/<int:service_id>/sign/": {"signed_by": "probe", "signature": "M1 1 L20 20"},
        "service/<int:service_id>/settle/": {"labour": "10", "discount_percent": "0"},
        "service/<int:service_id>/visit/": {"satisfaction": "5", "notes": "probe"},
        "service/<int:service_id>/bring-in/": {"do": "in", "taken": "probe", "loaner": ""},
        "service/<int:service_id>/refer/": {},
        "care/complaints/<int:complaint_id>/step/": {"step": "apologise", "done": "1"},
        "care/complaints/<int:complaint_id>/resolve/": {"reason": "quality", "resolution": "probe", "our_fault": "0"},
        "care/complaints/<int:complaint_id>/emotion/": {"emotion": "calm"},
        "care/complaints/<int:complaint_id>/visit/": {"at": at, "agent": me.pk, "channel": "phone"},
        "care/complaints/<int:complaint_id>/assign/": {"owner": me.pk},
        "care/customers/<int:customer_id>/first-contact/": {"note": "probe"},
        "care/visits/<int:visit_id>/": {"opinion": "probe", "satisfaction": "5", "suggestions": ""},
        "attendance/requests/<int:request_id>/decide/": {"decision": "approve", "comment": "probe"},
        "attendance/red-packets/<int:packet_id>/sent/": {},
        "attendance/points/<int:entry_id>/reverse/": {"note": "probe"},
        "staff/<int:staff_id>/leave-date/": {"leave_date": (dt.date.today() + dt.timedelta(days=400)).isoformat()},
        "attendance/staff/<int:staff_id>/": {},
        "api/v1/aftersales/cases/<case_id>/transition": {"status": "处理中"},
        "api/v1/aftersales/cases/<case_id>/facts": {"facts": {"line_value": "10"}},
        "api/v1/aftersales/cases/<case_id>/resolution": {"code": "refund_full"},
        "api/v1/aftersales/cases/<case_id>/money": {"kind": "coupon", "amount": "1.00", "idempotency_key": key},
        "api/v1/aftersales/money/<line_id>/approve": {},
        "api/v1/aftersales/money/<line_id>/reject": {"note": "probe"},
        "api/v1/service/requests/<request_id>/evaluate": {},
        "api/v1/service/requests/<request_id>/appointment": {"technician_id": tech, "at": at + ":00+08:00"},
        "api/v1/service/requests/<request_id>/arrive": {},
        "api/v1/service/requests/<request_id>/diagnosis": {"diagnosis": "probe", "parts_consent": True},
        "api/v1/service/requests/<request_id>/steps": {"code": "check_power", "done": True},
        "api/v1/service/requests/<request_id>/parts": {"part_id": ctx["part_id"], "quantity": 1, "idempotency_key": key},
        "api/v1/service/requests/<request_id>/signature": {"signed_by": "probe", "signature": "M1 1 L20 20"},
        "api/v1/service/requests/<request_id>/settlement": {"labour": "10"},
        "api/v1/service/requests/<request_id>/bring-in": {"taken": "probe"},
        "api/v1/service/requests/<request_id>/bring-back": {},
        "api/v1/service/requests/<request_id>/loaner-returned": {},
        "api/v1/service/requests/<request_id>/referral": {},
        "api/v1/service/requests/<request_id>/referral/follow-up": {"outcome": "probe"},
        "api/v1/service/requests/<request_id>/return-visit": {"satisfaction": 5, "notes": "probe"},
        "api/v1/service/agreements/<agreement_id>/review": {},
        "api/v1/service/plan-items/<item_id>": {"state": "reviewed"},
        "api/v1/service/bills/<bill_id>/pay": {},
        "api/v1/care/complaints/<complaint_id>/steps": {"code": "apologise", "done": True},
        "api/v1/care/complaints/<complaint_id>/emotion": {"emotion": "calm"},
        "api/v1/care/complaints/<complaint_id>/assign": {"owner_id": me.pk},
        "api/v1/care/complaints/<complaint_id>/resolve": {"reason": "quality", "resolution": "probe"},
        "api/v1/care/complaints/<complaint_id>/visits": {"agent_id": me.pk, "at": at + ":00+08:00"},
        "api/v1/care/visits/<visit_id>": {"opinion": "probe", "satisfaction": 5},
        "api/v1/staff/<staff_id>/leave-date": {"leave_date": (dt.date.today() + dt.timedelta(days=400)).isoformat()},
    }  # fmt: skip
    body = table.get(route, {})
    if isinstance(body, tuple):
        return body
    return ("json" if api else "form", body)


def just_now() -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat(timespec="seconds")


def send_write(who: Who, path: str, how: str, body: Any) -> Answer:
    if how == "json":
        return http("POST", path, who, json_body=body, session_auth=False)
    if how == "files":
        png = base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
        )
        return http("POST", path, who, data=body, files={"file": ("probe.png", png, "image/png")})
    return http("POST", path, who, data=body)


def body_id_cases(ctx: dict[str, Any], username: str, o: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Write routes without an id in the path, with the other team's ids inside the body."""
    day = (dt.date.today() + dt.timedelta(days=9)).isoformat()
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday())
    key = secrets.token_hex(6)
    csv_rows = f"订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间\n{o['order_no']},probe,1.00,交易成功,2026-11-01 10:00:00\n"
    return [
        ("aftersales/new/", "form", {"order": o["order"], "case_type": "defect", "summary": "probe", "form_token": key + "a"}),
        ("aftersales/new/", "form", {"shop": o["shop"], "case_type": "defect", "summary": "probe", "buyer_nick": "probe",
                                     "form_token": key + "b"}),
        ("aftersales/refunds/approve/", "form", {"line": o["lines"]}),
        ("aftersales/refunds/grants/", "form", {"staff": o["staff"], "limit": "100"}),
        ("aftersales/reviews/", "form", {"shop": o["shop"], "order_no": o["order_no"], "content": "probe", "rating": "1"}),
        ("service/new/", "form", {"form_token": key + "s", "shop": o["shop"], "channel": "phone", "contact_name": "probe",
                                  "contact_phone": "13900000000", "product": "投影机", "part": "unit", "fault": "probe",
                                  "purchase_date": "2026-10-01"}),
        ("service/agreements/", "form", {"shop": o["shop"], "customer_name": "probe", "contact_name": "p",
                                         "contact_phone": "13900000000", "products": "投影机", "starts_on": "2026-12-01",
                                         "ends_on": "2027-11-30", "fee": "100", "billing": "once"}),
        ("service/parts/", "form", {"part": o["part"], "quantity": "1", "note": "probe", "idempotency_key": key}),
        ("care/complaints/", "form", {"form_token": key + "c", "shop": o["shop"], "contact_name": "probe",
                                      "contact_phone": "13900000000", "text": "probe", "channel": "phone"}),
        ("care/assignment/", "form", {f"customer_{o['customer']}": o["staff"]}),
        ("desk/presence/", "form", {"state": "online"}),
        ("desk/channels/", "form", {"shop": o["shop"], "code": f"probe-{key}", "name": "probe", "kind": "widget"}),
        ("desk/scripts/", "form", {"shop": o["shop"], "category": "物流", "title": "probe", "text": "probe"}),
        ("desk/scripts/", "form", {"script": o["script"], "decision": "approve"}),
        ("desk/questions/", "form", {"shop": o["shop"], "question": "probe?", "buyer": "probe"}),
        ("desk/questions/", "form", {"conversation": o["conversation"], "question": "probe?"}),
        ("desk/questions/", "form", {"question_id": o["question"], "answer": "probe", "promote": "1", "category": "物流"}),
        ("desk/followups/", "form", {"shop": o["shop"], "owner": o["staff"], "due_at": future_local(2), "buyer": "probe",
                                     "problem": "probe", "request": "probe"}),
        ("desk/followups/", "form", {"conversation": o["conversation"], "due_at": future_local(2), "problem": "probe"}),
        ("desk/followups/", "form", {"followup": o["followup"], "outcome": "probe"}),
        ("desk/chases/", "form", {"chase": o["chase"], "text": "probe urge", "idempotency_key": key}),
        ("desk/chases/", "form", {"chase": o["chase"], "do": "lost", "reason": "price", "note": "probe"}),
        ("attendance/team/roster/", "form", {"staff": o["staff"], "date": day, "shift": "day"}),
        ("attendance/team/copy-week/", "form", {"team": o["team"], "from_monday": (monday - dt.timedelta(days=7)).isoformat(),
                                                "to_monday": (monday + dt.timedelta(days=14)).isoformat()}),
        ("attendance/team/makeup/", "form", {"staff": o["staff"], "at": f"{dt.date.today() - dt.timedelta(days=1)}T08:30",
                                             "kind": "on", "note": "probe"}),
        ("attendance/requests/new/", "form", {"kind": "personal", "start_date": day, "end_date": day, "staff": o["staff"]}),
        ("attendance/points/", "form", {"staff": o["staff"], "item": "noise", "note": "probe", "idempotency_key": key}),
        ("attendance/points/", "form", {"clear_team": o["team"], "note": "probe"}),
        ("outbox/", "form", {"message": o["outbox"]}),
        ("api/v1/aftersales/cases", "json", {"order_id": o["order"], "case_type": "defect", "summary": "probe"}),
        ("api/v1/aftersales/refunds", "json", {"shop": o["shop"], "refunds": [{"refund_id": f"RB-{key}", "tid": o["order_no"],
                                                                               "refund_fee": "1.00", "status": "WAIT_SELLER_AGREE"}]}),
        ("api/v1/aftersales/refund-grants", "json", {"staff_id": o["staff"], "limit": "100"}),
        ("api/v1/aftersales/shop-ratings", "json", {"shop": o["shop"], "ratings": [{"day": str(dt.date.today() - dt.timedelta(days=1)), "description": "4.90", "service": "4.80", "logistics": "4.70"}]}),
        ("api/v1/care/complaints", "json", {"shop_id": o["shop"], "contact_name": "probe", "text": "probe"}),
        ("api/v1/care/complaints", "json", {"shop_id": o["own_shop"], "contact_name": "probe", "text": "probe", "order_id": o["order"]}),
        ("api/v1/service/requests", "json", {"shop_id": o["shop"], "channel": "phone", "contact_name": "p", "contact_phone": "1",
                                             "product": "投影机", "fault": "probe", "purchase_date": "2026-10-01"}),
        ("api/v1/service/requests", "json", {"shop_id": o["own_shop"], "channel": "phone", "contact_name": "p", "contact_phone": "1",
                                             "product": "投影机", "fault": "probe", "purchase_date": "2026-10-01",
                                             "agreement_id": o["agreement"]}),
        ("api/v1/service/agreements", "json", {"shop_id": o["shop"], "customer_name": "p", "contact_name": "p", "contact_phone": "1",
                                               "products": [{"product": "投影机"}], "starts_on": "2026-12-01",
                                               "ends_on": "2027-11-30", "fee": "100", "billing": "once"}),
        ("api/v1/orders/push", "json", {"shop": o["shop"], "orders": [{"order_no": f"PROBE-{key}", "status": "交易成功",
                                                                     "paid_amount": "1.00", "ordered_at": "2026-11-01T09:00:00"}]}),
        ("api/v1/orders/push", "json", {"shop": o["shop"], "orders": [{"order_no": o["order_no"], "status": "交易关闭",
                                                                     "paid_amount": "0.01", "ordered_at": "2026-11-01T09:00:00"}]}),
        ("api/v1/orders/import", "files", {"shop": str(o["shop"]), "_file": ("orders.csv", csv_rows.encode("utf-8"))}),
        ("api/v1/punches", "json", {"employee_no": o["employee_no"], "at": f"{dt.date.today()}T08:29:00+08:00", "kind": "on"}),
        ("api/v1/desk/messages", "json", {"messages": [{"external_id": f"probe-{key}", "shop": o["shop_code"], "buyer": "probe",
                                                        "direction": "in", "sent_at": just_now(), "text": "probe"}]}),
        ("api/v1/desk/messages", "json", {"messages": [{"external_id": f"probe-out-{key}", "shop": o["own_shop_code"],
                                                        "buyer": "probe", "direction": "out", "agent": o["employee_no"],
                                                        "sent_at": just_now(), "text": "probe"}]}),
        ("api/v1/desk/presence", "json", {"state": "online"}),
    ]  # fmt: skip


def phase_writes(ctx: dict[str, Any]) -> dict[str, Any]:
    truth: Truth = ctx["truth"]
    who: dict[str, Who] = ctx["who"]
    fp: Footprint = ctx["fp"]
    routes = ctx["routes"]
    res: dict[str, Any] = {
        "object_route_attempts": 0, "object_route_succeeded": [], "body_id_attempts": 0, "body_id_succeeded": [],
        "controls": 0, "controls_succeeded": 0, "status": collections.Counter(), "5xx": [], "routes": 0,
        "unexplained_changes": [], "attempt_status": collections.defaultdict(collections.Counter), "answered_not_404": [], "controls_detail": [], "body_controls": 0, "body_controls_wrote": 0, "body_controls_detail": [],
    }  # fmt: skip
    post_routes = [r for r in routes if PARAM.search(r) and not r.startswith(("desk/widget/", "api/v1/desk/webhook/", "reports/",
                                                                                "api/v1/reports/"))]  # fmt: skip
    ctx["instance"].pause_worker(True)
    try:
        for username in [u for u in ROLES if u not in ALL_SEEING]:
            truth.refresh()
            me = truth.me(username)
            w = who[username]
            uid = truth.user_ids[username]
            other = next(t for t in truth.teams if t != me.team_id)
            o_shops = sorted(truth.team_shops[other])
            o_staff = sorted(s for s, t in truth.staff_team.items() if t == other)
            own_shops = sorted(truth.team_shops[me.team_id])
            own_staff = sorted(s for s, t in truth.staff_team.items() if t == me.team_id)
            for route in post_routes:
                names = [m.group("name") for m in PARAM.finditer(route)]
                kinds = [kind_of(route, n) for n in names]
                if any(k in NOT_OBJECTS for k in kinds) or route.endswith((".pdf", ".zip", ".js")):
                    continue
                if not _posts(route):
                    continue
                kind = kinds[-1]
                samples = truth.samples(username, kind, per_reason=1)
                how, body = object_write_body(route, ctx, username)
                for oid, why in samples:
                    path = fill(route, {names[-1]: oid})
                    before_t, before_e = fp.target(kind, oid), fp.last_event()
                    a = send_write(w, path, how, body)
                    after_t, events = fp.target(kind, oid), fp.events_after(before_e, uid)
                    res["object_route_attempts"] += 1
                    res["status"][a.status] += 1
                    res["attempt_status"][why][a.status] += 1
                    if a.status not in (401, 403, 404, 405):
                        res["answered_not_404"].append({"role": username, "POST": path, "status": a.status, "object": f"{kind}:{oid}",
                                                        "reason": why, "answer": a.text()[:160]})  # fmt: skip
                    if a.status >= 500 or a.status == 0:
                        res["5xx"].append({"role": username, "POST": path, "status": a.status, "body": a.text()[:200]})
                    if before_t != after_t or events:
                        res["object_route_succeeded"].append({
                            "role": username, "POST": path, "body": _short(body), "status": a.status, "object": f"{kind}:{oid}",
                            "reason": why, "target_changed": before_t != after_t, "events": [e[1] for e in events],
                            "answer": a.text()[:200],
                        })  # fmt: skip
                # the control: the same body on an object in scope
                inside = truth.allowed(username, kind)
                if inside:
                    oid = inside[len(inside) // 2]
                    path = fill(route, {names[-1]: oid})
                    before_t, before_e = fp.target(kind, oid), fp.last_event()
                    a = send_write(w, path, how, object_write_body(route, ctx, username)[1])
                    res["controls"] += 1
                    res["status"][a.status] += 1
                    if a.status >= 500 or a.status == 0:
                        res["5xx"].append(
                            {"role": username, "POST (control)": path, "status": a.status, "body": a.text()[:200]}
                        )
                    wrote = fp.target(kind, oid) != before_t or bool(fp.events_after(before_e, uid))
                    res["controls_succeeded"] += wrote
                    res["controls_detail"].append({"role": username, "route": route, "status": a.status, "wrote": wrote,
                                                   "answer": "" if wrote else a.text()[:160]})  # fmt: skip
            res["routes"] = max(res["routes"], len([r for r in post_routes if _posts(r)]))
            # ids of the other team in bodies of the routes without an id
            o = _other_ids(truth, fp, username, other, o_shops, o_staff, own_shops)
            work = str(me.position) in ("technician", "warehouse")
            current = fp.team(o_shops, o_staff, other)
            tables = fp.team_tables(o_shops, o_staff, other)
            own_current = fp.team(own_shops, own_staff, me.team_id, exclude_staff=me.pk) if work else ""
            for route, how, body in body_id_cases(ctx, username, o):
                before_e = fp.last_event()
                path = "/" + route
                if how == "files":
                    fname, content = body.pop("_file")
                    a = http(
                        "POST", path, w, data=body, files={"file": (fname, content, "text/csv")}, session_auth=False
                    )
                    body["_file"] = (fname, content)
                else:
                    a = send_write(w, path, how, body)
                res["body_id_attempts"] += 1
                res["status"][a.status] += 1
                if a.status >= 500 or a.status == 0:
                    res["5xx"].append(
                        {
                            "role": username,
                            "POST": path,
                            "body": _short(body),
                            "status": a.status,
                            "answer": a.text()[:200],
                        }
                    )
                after = fp.team(o_shops, o_staff, other)
                events = fp.events_after(before_e, uid)
                if after != current:
                    now_tables = fp.team_tables(o_shops, o_staff, other)
                    changed = [t for t, h in now_tables.items() if tables.get(t) != h]
                    tables, current = now_tables, after
                    res["body_id_succeeded"].append({"role": username, "POST": path, "body": _short(body), "status": a.status,
                                                     "changed": changed, "events": [e[1] for e in events],
                                                     "answer": a.text()[:200]})  # fmt: skip
                if work:
                    own_after = fp.team(own_shops, own_staff, me.team_id, exclude_staff=me.pk)
                    if own_after != own_current:
                        own_current = own_after
                        res["unexplained_changes"].append({"role": username, "POST": path, "body": _short(body), "status": a.status,
                                                           "note": "own team's data outside the role's work changed",
                                                           "events": [e[1] for e in events]})  # fmt: skip
            # the control: the same bodies with the role's own team's ids (do they write at all?)
            own_o = _other_ids(truth, fp, username, me.team_id, own_shops, own_staff, own_shops)
            for route, how, body in body_id_cases(ctx, username, own_o):
                before_e = fp.last_event()
                path = "/" + route
                if how == "files":
                    fname, content = body.pop("_file")
                    a = http(
                        "POST", path, w, data=body, files={"file": (fname, content, "text/csv")}, session_auth=False
                    )
                else:
                    a = send_write(w, path, how, body)
                wrote = bool(fp.events_after(before_e, uid))
                res["body_controls"] += 1
                res["body_controls_wrote"] += wrote
                res["status"][a.status] += 1
                if a.status >= 500 or a.status == 0:
                    res["5xx"].append({"role": username, "POST (control)": path, "body": _short(body), "status": a.status,
                                       "answer": a.text()[:200]})  # fmt: skip
                res["body_controls_detail"].append({"role": username, "route": route, "status": a.status, "wrote": wrote,
                                                    "answer": "" if wrote else a.text()[:160]})  # fmt: skip
            log(
                f"writes: {username} done ({res['object_route_attempts']} object-route, {res['body_id_attempts']} body-id attempts so far)"
            )
    finally:
        ctx["instance"].pause_worker(False)
    res["object_route_succeeded_count"] = len(res["object_route_succeeded"])
    res["body_id_succeeded_count"] = len(res["body_id_succeeded"])
    return res


_POSTS: dict[str, bool] = {}


def _posts(route: str) -> bool:
    """Whether a route takes POST (its view, or an API operation with that method)."""
    if route in _POSTS:
        return _POSTS[route]
    if route.startswith("api/"):
        spec = _openapi()
        path = "/" + PARAM.sub(lambda m: "{" + m.group("name") + "}", route)
        ok = "post" in spec["paths"].get(path, {})
    else:
        import inspect

        from django.urls import resolve

        try:
            view = inspect.unwrap(resolve(fill(route, {m.group("name"): 1 for m in PARAM.finditer(route)})).func)
            ok = "POST" in inspect.getsource(view) or _decorated_post(view)
        except Exception:
            ok = True
    _POSTS[route] = ok
    return ok


def _decorated_post(view: Any) -> bool:
    import inspect

    try:
        module = inspect.getsource(inspect.getmodule(view))
    except (OSError, TypeError):
        return True
    name = getattr(view, "__name__", "")
    found = re.search(r"((?:@[^\n]+\n)+)def " + re.escape(name) + r"\(", module)
    return bool(found and ("require_POST" in found.group(1) or "POST" in found.group(1)))


_SPEC: dict[str, Any] = {}


def _openapi() -> dict[str, Any]:
    if not _SPEC:
        _SPEC.update(json.loads((ROOT / "docs/openapi.json").read_text()))
    return _SPEC


def _other_ids(truth: Truth, fp: Footprint, username: str, other: int, o_shops: list[int], o_staff: list[int],
               own_shops: list[int]) -> dict[str, Any]:  # fmt: skip
    from kefu.desk.models import FollowUp, PaymentChase, Question
    from kefu.org.models import Shop

    def first(d: dict[int, Any], pred: Callable[[Any], bool]) -> int:
        return next((k for k, v in sorted(d.items()) if pred(v)), 0)

    order = first(truth.orders, lambda s: s in o_shops)
    lines = [k for k, c in truth.lines.items() if truth.cases.get(c, (None,))[0] in o_shops][:5]
    staff = next(
        (s for s in o_staff if truth.staff[s].user_id and str(truth.staff[s].position) in ("presales", "aftersales")),
        o_staff[0],
    )
    return {
        "shop": o_shops[0], "own_shop": own_shops[0], "team": other, "staff": staff, "order": order,
        "order_no": next(no for no, oid in truth.order_no.items() if oid == order), "lines": lines,
        "customer": truth.order_customer.get(order) or 0, "script": first(truth.scripts, lambda s: s in o_shops),
        "conversation": first(truth.conversations, lambda s: s in o_shops),
        "question": Question.objects.filter(shop_id__in=o_shops).values_list("id", flat=True).first() or 0,
        "followup": FollowUp.objects.filter(shop_id__in=o_shops).values_list("id", flat=True).first() or 0,
        "chase": PaymentChase.objects.filter(shop_id__in=o_shops).values_list("id", flat=True).first() or 0,
        "agreement": first(truth.agreements, lambda s: s in o_shops),
        "employee_no": truth.staff[staff].employee_no, "part": fp.one("SELECT MIN(id) FROM service_part"),
        "shop_code": Shop.objects.get(pk=o_shops[0]).code, "own_shop_code": Shop.objects.get(pk=own_shops[0]).code,
        "outbox": fp.one("SELECT MIN(id) FROM core_outboxmessage") or 0,
    }  # fmt: skip


def _short(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: (v if not isinstance(v, (bytes, tuple)) else "<file>") for k, v in body.items()}
    return body


# ------------------------------------------------------------------------------------------------
# 4. parallel


class Parallel:
    def __init__(self, ctx: dict[str, Any]) -> None:
        self.ctx = ctx
        self.n = ctx["args"].parallel
        self.results: list[dict[str, Any]] = []
        self.fp: Footprint = ctx["fp"]

    def fire(self, send: Callable[[int], Answer]) -> list[Answer]:
        barrier = threading.Barrier(self.n)
        out: list[Answer | None] = [None] * self.n

        def run(i: int) -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(60)
            try:
                out[i] = send(i)
            except Exception as exc:
                out[i] = Answer(599, repr(exc).encode(), {}, 0)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(self.n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        return [a if a is not None else Answer(0, b"no answer", {}, 0) for a in out]

    def record(self, name: str, answers: list[Answer], effects: dict[str, Any], ok: bool, note: str = "") -> None:
        dist = collections.Counter(a.status for a in answers)
        five = [a for a in answers if a.status >= 500 or a.status == 0]
        entry = {
            "path": name,
            "requests": len(answers),
            "status": dict(sorted(dist.items())),
            "5xx": len(five),
            "effects": effects,
            "invariant": "held" if ok else "BROKEN",
        }
        if note:
            entry["note"] = note
        if five:
            entry["5xx_sample"] = five[0].text()[:300]
        same = next((e for e in self.results if e.get("path") == name and "requests" in e), None)
        if same is None:
            entry["rounds"] = 1
            self.results.append(entry)
        else:  # another round of the same path: counts add up, effects are listed per round
            same["rounds"] += 1
            same["requests"] += entry["requests"]
            same["5xx"] += entry["5xx"]
            same["status"] = dict(
                sorted((collections.Counter(same["status"]) + collections.Counter(entry["status"])).items())
            )
            if "effects_per_round" not in same:
                same["effects_per_round"] = [same.pop("effects")]
            same["effects_per_round"].append(effects)
            if not ok:
                same["invariant"] = "BROKEN"
            if five and "5xx_sample" not in same:
                same["5xx_sample"] = entry["5xx_sample"]
        log(f"parallel: {name}: {dict(sorted(dist.items()))} effects {effects} invariant {'held' if ok else 'BROKEN'}")

    def safely(self, name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:
            self.results.append({"path": name, "error": traceback.format_exc()[-800:]})
            log(f"parallel: {name}: probe error\n{traceback.format_exc()[-800:]}")


def phase_parallel(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from kefu.aftersales import services as after
    from kefu.aftersales.models import Case, CourierClaim, MoneyLine
    from kefu.commerce.models import Order
    from kefu.core import clock
    from kefu.core.models import Event, OutboxMessage
    from kefu.desk.models import Channel, Conversation, InboundMessage, Message, PaymentChase
    from kefu.org.models import Staff
    from kefu.service import services as field
    from kefu.service.models import AgreementBill, Part, ServiceRequest, StockEntry
    from kefu.workforce.models import PointEntry, RedPacket, RedPacketEntry

    P = Parallel(ctx)
    who: dict[str, Who] = ctx["who"]
    U = {u.username: u for u in get_user_model().objects.all()}
    boss, lead, agent, presales = U["zhuguan"], U["yz_zuzhang"], U["yz_shouhou"], U["yz_shouqian"]
    tech = U["jishu"]
    tech_staff = Staff.objects.get(user=tech)
    n = P.n
    shop1_orders = Order.objects.filter(shop_id=1, paid_amount__gt=0, refunded_amount=0).order_by("-id")
    used: set[int] = set(Case.objects.exclude(order=None).values_list("order_id", flat=True))

    def fresh_order() -> Order:
        o = next(o for o in shop1_orders if o.pk not in used)
        used.add(o.pk)
        return o

    def refunds_of(order: Order) -> Decimal:
        return sum(
            (m.amount for m in MoneyLine.objects.filter(case__order=order, kind__in=("refund", "partial_refund")).exclude(status="rejected")),
            Decimal(0),
        )  # fmt: skip

    def events(subject: Any, verb: str) -> int:
        return Event.objects.for_object(subject).filter(verb=verb).count()

    def half(i: int) -> bool:
        return i % 2 == 0

    # -- money ------------------------------------------------------------------------------------
    def money_same_key() -> None:
        order = fresh_order()
        case = after.case_open(
            actor=agent, case_type="refund_only", order=order, facts={"line_value": str(order.paid_amount)}
        )
        amount = min(order.paid_amount, Decimal("5.00"))
        body = {
            "kind": "partial_refund",
            "amount": str(amount),
            "note": "差价",
            "idempotency_key": "par-" + secrets.token_hex(6),
        }
        ans = P.fire(
            lambda i: (
                http("POST", f"/aftersales/{case.pk}/money/", who["yz_shouhou"], data=body)
                if half(i)
                else http(
                    "POST",
                    f"/api/v1/aftersales/cases/{case.pk}/money",
                    who["yz_shouhou"],
                    json_body=body,
                    session_auth=False,
                )
            )
        )
        lines = MoneyLine.objects.filter(case=case).count()
        ev = events(case, "case.money_requested")
        P.record(
            "after-sales money line, same idempotency key (page + API)",
            ans,
            {"money_lines": lines, "events": ev},
            lines == 1 and ev == 1 and refunds_of(order) <= order.paid_amount,
        )

    def refunds_different_keys() -> None:
        order = fresh_order()
        case = after.case_open(
            actor=agent, case_type="refund_only", order=order, facts={"line_value": str(order.paid_amount)}
        )
        ans = P.fire(
            lambda i: (
                http(
                    "POST",
                    f"/api/v1/aftersales/cases/{case.pk}/money",
                    who["yz_shouhou"],
                    session_auth=False,
                    json_body={
                        "kind": "refund",
                        "amount": str(order.paid_amount),
                        "idempotency_key": f"full-{case.pk}-{i}",
                    },
                )
                if half(i)
                else http(
                    "POST",
                    f"/aftersales/{case.pk}/money/",
                    who["yz_shouhou"],
                    data={"kind": "refund", "amount": str(order.paid_amount), "idempotency_key": f"full-{case.pk}-{i}"},
                )
            )
        )
        total = refunds_of(order)
        P.record(
            "full refund, 100 different keys (page + API)",
            ans,
            {
                "paid": str(order.paid_amount),
                "refunds_total": str(total),
                "lines": MoneyLine.objects.filter(case=case).count(),
            },
            total <= order.paid_amount and MoneyLine.objects.filter(case=case).count() == 1,
        )

    def partial_refunds_two_cases() -> None:
        order = fresh_order()
        a = after.case_open(
            actor=agent, case_type="refund_only", order=order, facts={"line_value": str(order.paid_amount)}
        )
        b = after.case_open(
            actor=lead, case_type="refund_only", order=order, facts={"line_value": str(order.paid_amount)}
        )
        third = (order.paid_amount / 3).quantize(Decimal("0.01"))
        ans = P.fire(
            lambda i: http(
                "POST",
                f"/api/v1/aftersales/cases/{(a if half(i) else b).pk}/money",
                who["yz_shouhou" if half(i) else "yz_zuzhang"],
                session_auth=False,
                json_body={"kind": "refund", "amount": str(third), "idempotency_key": f"third-{a.pk}-{i}"},
            )
        )
        total = refunds_of(order)
        P.record(
            "refunds of a third of the paid amount, 100 different keys, agent + lead",
            ans,
            {
                "paid": str(order.paid_amount),
                "refunds_total": str(total),
                "lines": MoneyLine.objects.filter(case__order=order).count(),
            },
            total <= order.paid_amount,
        )

    def approve_race() -> None:
        order = fresh_order()
        case = after.case_open(
            actor=agent, case_type="refund_only", order=order, facts={"line_value": str(order.paid_amount)}
        )
        line = after.money_post(
            actor=agent, case=case, kind="refund", amount=order.paid_amount, idempotency_key=f"ap-{case.pk}"
        )
        ans = P.fire(
            lambda i: (
                http("POST", f"/api/v1/aftersales/money/{line.pk}/approve", who["zhuguan"], session_auth=False)
                if i % 3 == 0
                else http(
                    "POST", f"/aftersales/refunds/{line.pk}/decide/", who["zhuguan"], data={"decision": "approve"}
                )
                if i % 3 == 1
                else http(
                    "POST",
                    f"/api/v1/aftersales/money/{line.pk}/reject",
                    who["fuzhuguan"],
                    session_auth=False,
                    json_body={"note": "不同意"},
                )
            )
        )
        line.refresh_from_db()
        ap, rj = events(case, "case.refund_approved"), events(case, "case.refund_rejected")
        P.record(
            "refund approve (supervisor, page + API) racing reject (deputy)",
            ans,
            {"final_status": line.status, "approved_events": ap, "rejected_events": rj},
            ap + rj == 1 and line.status in ("approved", "rejected"),
        )

    def bulk_approve() -> None:
        lines = []
        for _ in range(3):
            order = fresh_order()
            case = after.case_open(
                actor=agent, case_type="refund_only", order=order, facts={"line_value": str(order.paid_amount)}
            )
            lines.append(
                after.money_post(
                    actor=agent,
                    case=case,
                    kind="partial_refund",
                    amount=Decimal("1.00"),
                    idempotency_key=f"bulk-{case.pk}",
                )
            )
        ans = P.fire(
            lambda i: http(
                "POST", "/aftersales/refunds/approve/", who["zhuguan"], data={"line": [ln.pk for ln in lines]}
            )
        )
        ev = sum(events(ln.case, "case.refund_approved") for ln in lines)
        st = [MoneyLine.objects.get(pk=ln.pk).status for ln in lines]
        P.record(
            "bulk refund approval of 3 lines, 100 times",
            ans,
            {"statuses": st, "approved_events": ev},
            ev == 3 and all(s == "approved" for s in st),
        )

    def resolution_once() -> None:
        order = fresh_order()
        Order.objects.filter(pk=order.pk).update(province="广东")
        order.refresh_from_db()
        case = after.case_open(
            actor=agent,
            case_type="wrong_item",
            order=order,
            facts={"line_value": "39.00", "wrong_item_value": "8.00", "shipped_matches_order": False},
        )
        codes = [p.code for p in after.case_decision(case).proposals if p.cost > 0][:2] or ["keep_discount"]
        ans = P.fire(
            lambda i: (
                http(
                    "POST",
                    f"/aftersales/{case.pk}/resolution/",
                    who["yz_shouhou"],
                    data={"code": codes[i % len(codes)]},
                )
                if half(i)
                else http(
                    "POST",
                    f"/api/v1/aftersales/cases/{case.pk}/resolution",
                    who["yz_shouhou"],
                    json_body={"code": codes[i % len(codes)]},
                    session_auth=False,
                )
            )
        )
        lines = MoneyLine.objects.filter(case=case).count()
        ev = events(case, "case.resolution_chosen")
        P.record(
            "resolution chosen (two codes alternating, page + API)",
            ans,
            {"money_lines": lines, "events": ev},
            lines == 1 and ev == 1,
        )

    def claim_recovered() -> None:
        order = fresh_order()
        case = after.case_open(actor=agent, case_type="lost_parcel", order=order)
        claim = after.claim_open(actor=agent, case=case)
        ans = P.fire(
            lambda i: http(
                "POST", f"/aftersales/claims/{claim.pk}/", who["yz_shouhou"], data={"status": "paid", "recovered": "80"}
            )
        )
        lines = MoneyLine.objects.filter(case=case, kind="claim_recovered").count()
        P.record(
            "courier claim recovered ¥80",
            ans,
            {"claim_recovered_lines": lines, "recovered": str(CourierClaim.objects.get(pk=claim.pk).recovered)},
            lines == 1,
        )

    def refund_sync() -> None:
        order = fresh_order()
        rid = "RF-PROBE-" + secrets.token_hex(4)
        body = {
            "shop": order.shop_id,
            "refunds": [
                {
                    "refund_id": rid,
                    "tid": order.order_no,
                    "refund_fee": str(order.paid_amount),
                    "status": "WAIT_SELLER_AGREE",
                    "timeout": f"{dt.date.today() + dt.timedelta(days=3)}T18:00:00",
                }
            ],
        }
        ans = P.fire(
            lambda i: http("POST", "/api/v1/aftersales/refunds", who["yz_zuzhang"], json_body=body, session_auth=False)
        )
        cases = Case.objects.filter(external_ref=rid)
        opened = sum(events(c, "case.opened") for c in cases)
        P.record(
            "platform refund pushed 100 times (API)",
            ans,
            {"cases": cases.count(), "opened_events": opened},
            cases.count() == 1 and opened == 1,
        )

    # -- field service: settlement, bills, stock ----------------------------------------------------
    def visit_ready(signed: bool, days_old: int = 800) -> ServiceRequest:
        item = field.request_create(
            actor=lead, shop=Staff.objects.get(user=lead).team.shops.order_by("id").first(), channel="phone",
            contact_name="李女士", contact_phone="13912345678", product="投影机", fault="无画面",
            purchase_date=clock.today() - dt.timedelta(days=days_old),
        )  # fmt: skip
        field.request_evaluate(actor=lead, item=item)
        field.appointment_set(actor=lead, item=item, technician=tech_staff, at=clock.now() + dt.timedelta(hours=1))
        field.visit_arrive(actor=tech, item=item)
        field.visit_diagnose(actor=tech, item=item, diagnosis="灯泡坏", parts_consent=True)
        if signed:
            field.report_sign(actor=tech, item=item, signed_by="李女士", signature="M1 1 L2 2")
        return ServiceRequest.objects.get(pk=item.pk)

    def settlement() -> None:
        item = visit_ready(True)
        ans = P.fire(
            lambda i: (
                http(
                    "POST",
                    f"/service/{item.pk}/settle/",
                    who["yz_zuzhang"],
                    data={"labour": "60", "discount_percent": "0"},
                )
                if half(i)
                else http(
                    "POST",
                    f"/api/v1/service/requests/{item.pk}/settlement",
                    who["yz_zuzhang"],
                    json_body={"labour": "60"},
                    session_auth=False,
                )
            )
        )
        item.refresh_from_db()
        ev = events(item, "service_request.settled")
        P.record(
            "service settlement (page + API)",
            ans,
            {"settled_events": ev, "amount_due": str(item.amount_due)},
            ev == 1 and item.settled_at is not None,
        )

    def bill_pay() -> None:
        agreement = field.agreement_create(
            actor=boss, shop=Staff.objects.get(user=lead).team.shops.order_by("id").first(), customer_name="一中",
            contact_name="陈", contact_phone="1", products=[{"product": "投影机", "serial_no": "PAR-1"}],
            starts_on=clock.today(), ends_on=clock.today() + dt.timedelta(days=364), fee=Decimal("1200.00"), billing="quarterly",
        )  # fmt: skip
        field.agreement_review(actor=boss, agreement=agreement)
        bill = agreement.bills.order_by("due_on").first()
        ans = P.fire(
            lambda i: (
                http("POST", f"/api/v1/service/bills/{bill.pk}/pay", who["zhuguan"], session_auth=False)
                if half(i)
                else http("POST", f"/service/bills/{bill.pk}/", who["zhuguan"], data={})
            )
        )
        ev = events(agreement, "agreement.bill_paid")
        P.record(
            "agreement bill paid (page + API)",
            ans,
            {"bill_paid_events": ev, "paid": AgreementBill.objects.get(pk=bill.pk).paid_at is not None},
            ev == 1,
        )

    def part(code: str, stock: int) -> Part:
        p = Part.objects.create(code=code + "-" + secrets.token_hex(3), name="灯泡", price=Decimal("50.00"))
        if stock:
            field.stock_receive(actor=boss, part=p, quantity=stock)
        return p

    def ledger_ok(p: Part) -> bool:
        p.refresh_from_db()
        entries = list(StockEntry.objects.filter(part=p).order_by("id"))
        running = 0
        for e in entries:
            running += e.quantity
            if running != e.balance or e.balance < 0:
                return False
        return p.on_hand == running and p.on_hand >= 0

    def parts_last_unit() -> None:
        item = visit_ready(False)
        p = part("LAST", 1)
        ans = P.fire(
            lambda i: (
                http(
                    "POST",
                    f"/service/{item.pk}/parts/",
                    who["jishu"],
                    data={"part": p.pk, "quantity": "1", "action": "issue", "idempotency_key": f"last-{p.pk}-{i}"},
                )
                if half(i)
                else http(
                    "POST",
                    f"/api/v1/service/requests/{item.pk}/parts",
                    who["jishu"],
                    session_auth=False,
                    json_body={"part_id": p.pk, "quantity": 1, "idempotency_key": f"last-{p.pk}-{i}"},
                )
            )
        )
        issued = StockEntry.objects.filter(part=p, kind="issued").count()
        p.refresh_from_db()
        P.record(
            "parts issue of the last unit, 100 different keys (page + API)",
            ans,
            {"issued_entries": issued, "on_hand": p.on_hand},
            issued == 1 and p.on_hand == 0 and ledger_ok(p),
        )

    def parts_same_key() -> None:
        item = visit_ready(False)
        p = part("SAME", 50)
        key = "same-" + secrets.token_hex(4)
        ans = P.fire(
            lambda i: (
                http(
                    "POST",
                    f"/service/{item.pk}/parts/",
                    who["jishu"],
                    data={"part": p.pk, "quantity": "2", "action": "issue", "idempotency_key": key},
                )
                if half(i)
                else http(
                    "POST",
                    f"/api/v1/service/requests/{item.pk}/parts",
                    who["jishu"],
                    session_auth=False,
                    json_body={"part_id": p.pk, "quantity": 2, "idempotency_key": key},
                )
            )
        )
        issued = StockEntry.objects.filter(part=p, kind="issued").count()
        p.refresh_from_db()
        P.record(
            "parts issue of 2, same idempotency key (page + API)",
            ans,
            {"issued_entries": issued, "on_hand": p.on_hand},
            issued == 1 and p.on_hand == 48 and ledger_ok(p),
        )

    def parts_return() -> None:
        item = visit_ready(False)
        p = part("RET", 5)
        field.parts_issue(actor=tech, item=item, part=p, quantity=1, key=f"ret-{p.pk}")
        ans = P.fire(
            lambda i: (
                http(
                    "POST",
                    f"/service/{item.pk}/parts/",
                    who["jishu"],
                    data={"part": p.pk, "quantity": "1", "action": "return"},
                )
                if half(i)
                else http(
                    "POST",
                    f"/api/v1/service/requests/{item.pk}/parts",
                    who["jishu"],
                    session_auth=False,
                    json_body={"part_id": p.pk, "quantity": 1, "action": "return"},
                )
            )
        )
        returned = StockEntry.objects.filter(part=p, kind="returned").count()
        p.refresh_from_db()
        P.record(
            "parts return of the 1 issued, 100 times (page + API)",
            ans,
            {"returned_entries": returned, "on_hand": p.on_hand},
            returned == 1 and p.on_hand == 5 and ledger_ok(p),
        )

    def stock_receive() -> None:
        p = part("RCV", 0)
        key = "rcv-" + secrets.token_hex(4)
        ans = P.fire(
            lambda i: http(
                "POST",
                "/service/parts/",
                who["zhuguan"],
                data={"part": p.pk, "quantity": "10", "note": "入库", "idempotency_key": key},
            )
        )
        rec = StockEntry.objects.filter(part=p, kind="received").count()
        p.refresh_from_db()
        P.record(
            "stock received, same idempotency key (page)",
            ans,
            {"received_entries": rec, "on_hand": p.on_hand},
            rec == 1 and p.on_hand == 10 and ledger_ok(p),
        )

    def appointment() -> None:
        item = field.request_create(
            actor=lead, shop=Staff.objects.get(user=lead).team.shops.order_by("id").first(), channel="phone",
            contact_name="王先生", contact_phone="13912340000", product="投影机", fault="无画面",
            purchase_date=clock.today() - dt.timedelta(days=100),
        )  # fmt: skip
        field.request_evaluate(actor=lead, item=item)
        at = future_local(2, 10)
        ans = P.fire(
            lambda i: (
                http(
                    "POST",
                    f"/service/{item.pk}/appoint/",
                    who["yz_zuzhang"],
                    data={"technician": tech_staff.pk, "at": at},
                )
                if half(i)
                else http(
                    "POST",
                    f"/api/v1/service/requests/{item.pk}/appointment",
                    who["yz_zuzhang"],
                    session_auth=False,
                    json_body={"technician_id": tech_staff.pk, "at": at + ":00+08:00"},
                )
            )
        )
        ev = events(item, "service_request.appointed")
        notices = OutboxMessage.objects.filter(kind="service.notify", payload__request=item.pk).count()
        # the same form posted twice one after the other (a double click that is not simultaneous)
        item2 = field.request_create(
            actor=lead, shop=Staff.objects.get(user=lead).team.shops.order_by("id").first(), channel="phone",
            contact_name="王先生", contact_phone="13912340000", product="投影机", fault="无画面",
            purchase_date=clock.today() - dt.timedelta(days=100),
        )  # fmt: skip
        field.request_evaluate(actor=lead, item=item2)
        for _ in range(2):
            http(
                "POST", f"/service/{item2.pk}/appoint/", who["yz_zuzhang"], data={"technician": tech_staff.pk, "at": at}
            )
        sequential = OutboxMessage.objects.filter(kind="service.notify", payload__request=item2.pk).count()
        P.record(
            "appointment confirmed to the customer (page + API, same technician and time)",
            ans,
            {
                "appointed_events": ev,
                "customer_notices": notices,
                "notices_after_2_sequential_identical_posts": sequential,
            },
            ev == 1 and notices == 1,
        )

    # -- workforce money: red packets, points ---------------------------------------------------------
    def red_packet() -> None:
        packet = RedPacket.objects.filter(staff__team_id=1).exclude(entries__kind="sent").order_by("id").first()
        ans = P.fire(
            lambda i: http(
                "POST",
                f"/attendance/red-packets/{packet.pk}/sent/",
                who["yz_zuzhang" if half(i) else "zhuguan"],
                data={},
            )
        )
        sent = RedPacketEntry.objects.filter(packet=packet, kind="sent").count()
        P.record(
            "red packet marked sent (lead + supervisor)",
            ans,
            {"sent_entries": sent, "events": events(packet, "red_packet.sent")},
            sent == 1 and events(packet, "red_packet.sent") == 1,
        )

    def points_same_key() -> None:
        staff = Staff.objects.get(user=presales)
        key = "pts-" + secrets.token_hex(4)
        before = PointEntry.objects.filter(staff=staff).count()
        ans = P.fire(
            lambda i: http(
                "POST",
                "/attendance/points/",
                who["zhuguan"],
                data={"staff": staff.pk, "item": "noise", "note": "喧哗", "idempotency_key": key},
            )
        )
        made = PointEntry.objects.filter(staff=staff).count() - before
        P.record("inspection points, same idempotency key (page)", ans, {"entries": made}, made == 1)

    def points_reverse() -> None:
        entry = (
            PointEntry.objects.filter(staff__user=presales, reverses=None)
            .exclude(pk__in=PointEntry.objects.exclude(reverses=None).values("reverses_id"))
            .order_by("-id")
            .first()
        )
        ans = P.fire(
            lambda i: http("POST", f"/attendance/points/{entry.pk}/reverse/", who["zhuguan"], data={"note": "冲销"})
        )
        rev = PointEntry.objects.filter(reverses=entry).count()
        P.record("inspection points reversed", ans, {"reversals": rev}, rev == 1)

    # -- messages ----------------------------------------------------------------------------------
    def own_conversation() -> Conversation:
        return (
            Conversation.objects.filter(shop_id__in=[1, 2, 3]).exclude(status__category="closed").order_by("id").first()
        )

    def reply_same_key() -> None:
        conv = own_conversation()
        key = "rep-" + secrets.token_hex(4)
        before = Message.objects.filter(conversation=conv, direction="out").count()
        ans = P.fire(
            lambda i: http(
                "POST",
                f"/desk/{conv.pk}/reply/",
                who["yz_shouqian"],
                data={"text": "您好,已为您查询", "idempotency_key": key},
            )
        )
        made = Message.objects.filter(conversation=conv, direction="out").count() - before
        P.record("desk reply, same idempotency key", ans, {"messages": made}, made == 1)

    def reply_different_keys() -> None:
        conv = own_conversation()
        before = set(Message.objects.filter(conversation=conv, direction="out").values_list("id", flat=True))
        tag = secrets.token_hex(3)
        ans = P.fire(
            lambda i: http(
                "POST",
                f"/desk/{conv.pk}/reply/",
                who["yz_shouqian"],
                data={"text": f"回复 {tag} {i}", "idempotency_key": f"rd-{tag}-{i}"},
            )
        )
        new = Message.objects.filter(conversation=conv, direction="out").exclude(id__in=before)
        texts = list(new.values_list("text", flat=True))
        ok_answers = sum(1 for a in ans if a.status in (200, 302))
        time.sleep(5)  # anything the worker would settle
        state = thread_state(conv)
        P.record(
            "desk reply, 100 different keys",
            ans,
            {"messages": len(texts), "distinct": len(set(texts)), "2xx/3xx": ok_answers, **state},
            len(texts) == len(set(texts)) == ok_answers and state["stored_state_matches_messages"],
        )

    def thread_state(conv: Conversation) -> dict[str, Any]:
        """The conversation's stored count / last message / waiting-since against what its messages say
        (the app's own computation, kefu.desk.services._thread_state)."""
        from kefu.desk.services.routing import _thread_state

        conv.refresh_from_db()
        _replied, waiting, last_at, _body, count = _thread_state([conv.pk])[conv.pk]
        stored = (conv.message_count, conv.last_message_at, conv.waiting_since)
        return {"message_count_stored": conv.message_count, "messages_in_thread": count,
                "stored_state_matches_messages": stored == (count, last_at, waiting)}  # fmt: skip

    def reply_racing_buyer() -> None:
        conv = Conversation.objects.filter(shop_id=1).exclude(status__category="closed").order_by("id")[1]
        tag = secrets.token_hex(3)
        shop_code, buyer = conv.shop.code, conv.buyer  # read here: the senders' threads must not touch the ORM

        def send(i: int) -> Answer:
            if half(i):
                return http(
                    "POST",
                    f"/desk/{conv.pk}/reply/",
                    who["yz_shouqian"],
                    data={"text": f"回复 {tag} {i}", "idempotency_key": f"rb-{tag}-{i}"},
                )
            body = json.dumps({"messages": [{**msg(f"rb-{tag}-{i}", buyer, f"买家 {i}"), "shop": shop_code}]}).encode()
            return http("POST", "/api/v1/desk/webhook/qianniu", None, raw=body, headers=signed(channel.secret, body))

        ans = P.fire(send)
        wait_placed(f"rb-{tag}", 60)
        time.sleep(5)
        state = thread_state(conv)
        P.record(
            "desk replies racing buyer messages (webhook) on one conversation",
            ans,
            state,
            state["stored_state_matches_messages"],
        )

    def chase_urge() -> None:
        chase = PaymentChase.objects.filter(shop_id__in=[1, 2, 3], state="open").order_by("id").first()
        if chase is None:
            P.results.append({"path": "payment urging", "skipped": "no open payment chase in the demo data"})
            return
        key = "urge-" + secrets.token_hex(4)
        before = Message.objects.filter(direction="out").count()
        urged_before = chase.urge_count
        ans = P.fire(
            lambda i: http(
                "POST",
                "/desk/chases/",
                who["yz_shouqian"],
                data={"chase": chase.pk, "text": "亲,订单还未付款哦", "idempotency_key": key},
            )
        )
        made = Message.objects.filter(direction="out").count() - before
        chase.refresh_from_db()
        P.record(
            "payment urging message, same idempotency key",
            ans,
            {"messages": made, "urges": chase.urge_count - urged_before},
            made <= 1 and chase.urge_count - urged_before <= 1,
        )

    def signed(secret: str, body: bytes, stamp: str | None = None) -> dict[str, str]:
        stamp = stamp or str(int(time.time()))
        sig = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "X-Kefu-Signature": f"v2={sig}", "X-Kefu-Timestamp": stamp}

    def wait_placed(ext_prefix: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not InboundMessage.objects.filter(external_id__startswith=ext_prefix, placed_at__isnull=True).exists():
                return
            time.sleep(0.3)

    channel = Channel.objects.get(code="qianniu")

    def msg(ext: str, buyer: str, text: str) -> dict[str, Any]:
        return {"external_id": ext, "shop": "haidaochuan", "buyer": buyer, "direction": "in", "kind": "text",
                "sent_at": clock.now().isoformat(), "text": text}  # fmt: skip

    def webhook_replay() -> None:
        ext = "par-replay-" + secrets.token_hex(4)
        body = json.dumps({"messages": [msg(ext, "par_buyer_1", "在吗")]}).encode()
        headers = signed(channel.secret, body)
        ans = P.fire(lambda i: http("POST", "/api/v1/desk/webhook/qianniu", None, raw=body, headers=headers))
        wait_placed(ext)
        stored = Message.objects.filter(external_id=ext).count()
        ok = sum(1 for a in ans if a.status == 200)
        P.record(
            "webhook: the same signed request 100 times",
            ans,
            {"accepted_200": ok, "messages_stored": stored, "409": sum(1 for a in ans if a.status == 409)},
            stored == 1 and ok == 1,
        )

    def webhook_same_message() -> None:
        ext = "par-dup-" + secrets.token_hex(4)
        m = msg(ext, "par_buyer_2", "发货了吗")

        def send(i: int) -> Answer:
            body = json.dumps({"messages": [m]}, indent=i % 5).encode() + b" " * (i // 5)  # another signature each
            return http("POST", "/api/v1/desk/webhook/qianniu", None, raw=body, headers=signed(channel.secret, body))

        ans = P.fire(send)
        created = sum(a.json().get("created", 0) for a in ans if a.status == 200)
        wait_placed(ext)
        stored = Message.objects.filter(external_id=ext).count()
        P.record(
            "webhook: one message in 100 differently signed requests",
            ans,
            {"created": created, "messages_stored": stored},
            created == 1 and stored == 1,
        )

    def webhook_many() -> None:
        tag = "par-many-" + secrets.token_hex(3)

        def send(i: int) -> Answer:
            body = json.dumps({"messages": [msg(f"{tag}-{i}", "par_buyer_3", f"消息 {i}")]}).encode()
            return http("POST", "/api/v1/desk/webhook/qianniu", None, raw=body, headers=signed(channel.secret, body))

        ans = P.fire(send)
        wait_placed(tag, 60)
        stored = Message.objects.filter(external_id__startswith=tag)
        distinct = stored.values("external_id").distinct().count()
        conv = Conversation.objects.filter(buyer="par_buyer_3").first()
        consistent = conv is not None and conv.message_count == Message.objects.filter(conversation=conv).count()
        P.record(
            "webhook: 100 different messages of one buyer",
            ans,
            {
                "messages_stored": stored.count(),
                "distinct": distinct,
                "conversations": Conversation.objects.filter(buyer="par_buyer_3").count(),
                "message_count_consistent": consistent,
            },
            stored.count() == distinct == n and consistent,
        )

    def api_messages_same() -> None:
        ext = "par-api-" + secrets.token_hex(4)
        body = {"messages": [msg(ext, "par_buyer_4", "你好")]}
        ans = P.fire(
            lambda i: http("POST", "/api/v1/desk/messages", who["yz_zuzhang"], json_body=body, session_auth=False)
        )
        wait_placed(ext)
        stored = Message.objects.filter(external_id=ext).count()
        created = sum(a.json().get("created", 0) for a in ans if a.status == 200)
        P.record(
            "integration API /desk/messages, same external id",
            ans,
            {"created": created, "messages_stored": stored},
            stored == 1 and created == 1,
        )

    def widget() -> None:
        code = ctx["fixtures"]["widget_1"]
        origin = "https://shop1.example"
        v = http(
            "POST",
            f"/desk/widget/{code}/messages?new=visitor",
            None,
            raw=b"",
            headers={"Origin": origin, "X-Forwarded-For": "10.9.0.1"},
        )
        visitor = v.json()["visitor"]
        cid = "probe-" + secrets.token_hex(8)
        body = json.dumps({"visitor": visitor, "text": "有人吗", "id": cid}).encode()
        ans = P.fire(
            lambda i: http(
                "POST",
                f"/desk/widget/{code}/messages",
                None,
                raw=body,
                headers={
                    "Origin": origin,
                    "Content-Type": "application/json",
                    "X-Forwarded-For": f"10.9.{i // 50}.{i % 50 + 2}",
                },
            )
        )
        ext = f"w-{visitor[-24:]}-{cid}"
        wait_placed(ext)
        stored = Message.objects.filter(external_id=ext).count()
        created = sum(a.json().get("created", 0) for a in ans if a.status == 200)
        P.record(
            "web chat widget: the same message (same client id) 100 times",
            ans,
            {"created": created, "messages_stored": stored},
            stored == 1 and created == 1,
        )
        # different client ids, one visitor: the per-visitor limit (20/min) answers 429, never 500
        v2 = http(
            "POST",
            f"/desk/widget/{code}/messages?new=visitor",
            None,
            raw=b"",
            headers={"Origin": origin, "X-Forwarded-For": "10.9.3.1"},
        ).json()["visitor"]
        tag = "pw" + secrets.token_hex(6)
        ans = P.fire(
            lambda i: http(
                "POST",
                f"/desk/widget/{code}/messages",
                None,
                raw=json.dumps({"visitor": v2, "text": f"第{i}条", "id": f"{tag}-{i:04d}-xxxxxxxx"}).encode(),
                headers={
                    "Origin": origin,
                    "Content-Type": "application/json",
                    "X-Forwarded-For": f"10.9.{4 + i // 50}.{i % 50 + 2}",
                },
            )
        )
        created = sum(a.json().get("created", 0) for a in ans if a.status == 200)
        prefix = f"w-{v2[-24:]}-{tag}"
        wait_placed(prefix)
        stored = Message.objects.filter(external_id__startswith=prefix).count()
        P.record(
            "web chat widget: 100 different messages of one visitor",
            ans,
            {"created": created, "messages_stored": stored},
            stored == created and created <= 20,
        )

    def close_conversation() -> None:
        conv = (
            Conversation.objects.filter(shop_id__in=[1, 2, 3])
            .exclude(status__category="closed")
            .order_by("-id")
            .first()
        )
        ans = P.fire(lambda i: http("POST", f"/desk/{conv.pk}/close/", who["yz_shouqian"], data={}))
        ev = (
            Event.objects.for_object(conv)
            .filter(verb__in=("conversation.closed", "conversation.status_changed"))
            .count()
        )
        P.record("desk conversation closed", ans, {"close_events": ev}, ev <= 1)

    # -- create forms posted with the same form token ----------------------------------------------
    def form_once() -> None:
        token = "ft-" + secrets.token_hex(6)
        before = ServiceRequest.objects.count()
        body = {
            "form_token": token,
            "shop": 1,
            "channel": "phone",
            "contact_name": "李女士",
            "contact_phone": "13912345678",
            "product": "投影机",
            "part": "unit",
            "fault": "无画面",
            "purchase_date": (clock.today() - dt.timedelta(days=30)).isoformat(),
        }
        ans = P.fire(lambda i: http("POST", "/service/new/", who["yz_zuzhang"], data=body))
        made = ServiceRequest.objects.count() - before
        P.record("service request create form, same form token", ans, {"requests_created": made}, made == 1)
        from kefu.care.models import Complaint

        token = "ft-" + secrets.token_hex(6)
        before = Complaint.objects.count()
        ans = P.fire(
            lambda i: http(
                "POST",
                "/care/complaints/",
                who["yz_zuzhang"],
                data={
                    "form_token": token,
                    "shop": 1,
                    "contact_name": "吴",
                    "contact_phone": "13900001111",
                    "text": "太慢了",
                    "channel": "phone",
                },
            )
        )
        made = Complaint.objects.count() - before
        P.record("complaint create form, same form token", ans, {"complaints_created": made}, made == 1)
        order = fresh_order()
        token = "ft-" + secrets.token_hex(6)
        before = Case.objects.count()
        ans = P.fire(
            lambda i: http(
                "POST",
                f"/aftersales/new/?order={order.pk}",
                who["yz_shouhou"],
                data={"form_token": token, "order": order.pk, "case_type": "defect", "summary": "划痕"},
            )
        )
        made = Case.objects.count() - before
        P.record("after-sales case create form, same form token", ans, {"cases_created": made}, made == 1)

    scenarios = [
        ("money_same_key", money_same_key), ("refunds_different_keys", refunds_different_keys),
        ("partial_refunds", partial_refunds_two_cases), ("approve_race", approve_race), ("bulk_approve", bulk_approve),
        ("resolution_once", resolution_once), ("claim_recovered", claim_recovered), ("refund_sync", refund_sync),
        ("settlement", settlement), ("bill_pay", bill_pay), ("parts_last_unit", parts_last_unit),
        ("parts_same_key", parts_same_key), ("parts_return", parts_return), ("stock_receive", stock_receive),
        ("appointment", appointment), ("red_packet", red_packet), ("points_same_key", points_same_key),
        ("points_reverse", points_reverse), ("reply_same_key", reply_same_key), ("reply_different_keys", reply_different_keys),
        ("reply_racing_buyer", reply_racing_buyer),
        ("chase_urge", chase_urge), ("webhook_replay", webhook_replay), ("webhook_same_message", webhook_same_message),
        ("webhook_many", webhook_many), ("api_messages_same", api_messages_same), ("widget", widget),
        ("close_conversation", close_conversation), ("form_once", form_once),
    ]  # fmt: skip
    for _round in range(ctx["args"].rounds):
        for name, fn in scenarios:
            P.safely(name, fn)
            connection.close()
    return P.results


# ------------------------------------------------------------------------------------------------
# 3. fuzz


HOSTILE = [
    "", "-1", "0", "1e30", "9" * 40, "NaN", "Infinity", "-Infinity", "2026-13-45", "2026-02-30", "9999-12-31", "0000-00-00",
    "abc", "%00", "\x00", "../../etc/passwd", "' OR 1=1 --", "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "😀" * 40,
    "true", "yes", "[]", "{}", "a" * 5000, "1.005", "-0.01", "12.345", "１２", "0x10", "1_000", " 1 ", "1,000.00",
    "2026-W99", "2026-00", "24:61", "2026-12-06T25:00", "2026-12-06T10:00+99:00", "1970-01-01", "3000-01-01", "null",
    "\u202e", "\ud7ff", "%", "\\", "\"", "'", "\r\n", "99999999999999999999.99", "-9223372036854775809", "18446744073709551616",
]  # fmt: skip
KEYS = [
    "cursor", "limit", "offset", "q", "month", "day", "date", "from", "to", "date_from", "date_to", "team", "shop", "staff",
    "status", "category", "case_type", "type", "format", "export", "verb", "mine", "overdue", "province", "flag",
    "memo_invalid", "position", "order", "week", "monday", "next", "reason", "technician", "queue", "owner", "state",
    "page", "sort", "kind", "after", "before", "year", "agent", "customer", "visitor", "id",
]  # fmt: skip
JSON_HOSTILE: list[Any] = [
    None, True, False, 0, -1, 1e308, -1e308, 2**63, -(2**63) - 1, 2**64, 0.1, "", "x" * 70000, "NaN", "Infinity", "1e999",
    "-5", "0.001", "12.345", [], {}, [1, 2], {"a": 1}, [[[[[]]]]], "\x00", "😀", "2026-02-30", "9999-12-31T23:59:59+08:00",
    "2026-12-06T10:00:00+15:00", "not a date", {"$gt": ""}, ["a"] * 600,
]  # fmt: skip


def phase_fuzz(ctx: dict[str, Any]) -> dict[str, Any]:
    truth: Truth = ctx["truth"]
    truth.refresh()
    who: dict[str, Who] = ctx["who"]
    rnd = random.Random(ctx["args"].seed)
    target = ctx["args"].fuzz
    spec = _openapi()
    routes = ctx["routes"]
    res: dict[str, Any] = {
        "requests": 0,
        "5xx": 0,
        "5xx_samples": [],
        "status": collections.Counter(),
        "by_part": collections.Counter(),
    }
    lock = threading.Lock()
    roles = ["zhuguan", "fuzhuguan", "yz_zuzhang", "hf_shouhou", "yz_shouqian", "jishu", "cangku", "hf_zuzhang"]
    skip_post = ("logout/", "login/", "tokens/", "i18n/", "policy/new/", "imports/", "api/v1/staff/import", "api/v1/orders/import",
                 "desk/stream/", "staff/<int:staff_id>/leave-date/", "api/v1/staff/<staff_id>/leave-date",
                 "workflow/")  # fmt: skip

    # valid cursors to tamper with
    cursors: list[tuple[str, str]] = []
    for path in (
        "/api/v1/orders",
        "/api/v1/customers",
        "/api/v1/aftersales/cases",
        "/api/v1/service/requests",
        "/api/v1/products",
        "/api/v1/punches",
        "/api/v1/staff",
    ):
        a = http("GET", path, who["zhuguan"], params={"limit": 2}, session_auth=False)
        try:
            nxt = a.json().get("next_cursor")
        except (ValueError, AttributeError):
            nxt = None
        if nxt:
            cursors.append((path, nxt))

    def own_id(username: str, kind: str) -> int:
        ids = truth.allowed(username, kind) if kind not in NOT_OBJECTS else []
        return rnd.choice(ids) if ids else rnd.choice(truth.ids(kind) or [1])

    def hostile() -> str:
        r = rnd.random()
        if r < 0.6:
            return rnd.choice(HOSTILE)
        if r < 0.8:
            return str(rnd.randint(-(2**70), 2**70))
        return "".join(
            chr(rnd.choice([rnd.randint(32, 126), rnd.randint(0x4E00, 0x9FFF), rnd.randint(0, 31)]))
            for _ in range(rnd.randint(1, 30))
        )

    def tamper_cursor(c: str) -> str:
        choice = rnd.randint(0, 6)
        if choice == 0:
            return c[:-3] + "AAA"
        if choice == 1:
            return base64.urlsafe_b64encode(
                json.dumps(rnd.choice([[1, "x"], {"a": None}, ["9" * 40, 1], [None], "x", 1e308])).encode()
            ).decode()
        if choice == 2:
            return c + "=="
        if choice == 3:
            return c[::-1]
        if choice == 4:
            return base64.urlsafe_b64encode(os.urandom(rnd.randint(1, 60))).decode()
        if choice == 5:
            return c.replace(c[rnd.randrange(len(c))], rnd.choice("-_+/=.0aZ"))
        return hostile()

    def mutate_json(value: Any, depth: int = 0) -> Any:
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                r = rnd.random()
                if r < 0.15:
                    continue  # drop the field
                out[k] = mutate_json(v, depth + 1) if r < 0.55 else rnd.choice(JSON_HOSTILE)
            if rnd.random() < 0.2:
                out[rnd.choice(["extra", "id", "shop", "__proto__", "amount", "at"])] = rnd.choice(JSON_HOSTILE)
            return out
        if isinstance(value, list):
            return [mutate_json(v, depth + 1) for v in value] if rnd.random() < 0.7 else rnd.choice(JSON_HOSTILE)
        return value if rnd.random() < 0.5 else rnd.choice(JSON_HOSTILE)

    def api_example(op_path: str, method: str) -> Any:
        op = spec["paths"][op_path][method]
        rb = op.get("requestBody")
        if not rb:
            return {}
        schema = rb["content"].get("application/json", {}).get("schema")
        return _example(schema, spec, rnd) if schema else {}

    plain_pages = [
        r for r in routes if not PARAM.search(r) and not r.startswith(("i18n/", "logout/", "desk/stream/", "api/"))
    ]
    object_pages = [r for r in routes if PARAM.search(r) and not r.startswith("api/")]
    api_ops = [(p, m) for p, ops in spec["paths"].items() for m in ops if m in ("get", "post")]
    post_pages = [r for r in routes if not r.startswith(("api/", *skip_post)) and _posts(r)]
    post_pages = [r for r in post_pages if not r.startswith(skip_post)]

    def job_page_get() -> tuple[str, str, Answer]:
        username = rnd.choice(roles)
        route = rnd.choice(plain_pages + object_pages)
        values = {
            m.group("name"): (
                own_id(username, kind_of(route, m.group("name")))
                if kind_of(route, m.group("name")) not in NOT_OBJECTS
                else _not_object_value(kind_of(route, m.group("name")), truth)
            )
            for m in PARAM.finditer(route)
        }
        if rnd.random() < 0.1 and values:
            k = rnd.choice(list(values))
            values[k] = rnd.choice(["9" * 30, "0", "18446744073709551616"])
        path = fill(route, values)
        params = {rnd.choice(KEYS): hostile() for _ in range(rnd.randint(1, 4))}
        return ("page GET", f"GET {path} {params!r}"[:400], http("GET", path, who[username], params=params))

    def job_page_post() -> tuple[str, str, Answer]:
        username = rnd.choice(roles)
        route = rnd.choice(post_pages)
        values = {
            m.group("name"): own_id(username, kind_of(route, m.group("name")))
            for m in PARAM.finditer(route)
            if kind_of(route, m.group("name")) not in NOT_OBJECTS
        }
        if any(kind_of(route, m.group("name")) in NOT_OBJECTS for m in PARAM.finditer(route)):
            return job_page_get()
        path = fill(route, values)
        how, body = object_write_body(route, ctx, username) if PARAM.search(route) else ("form", {})
        if how == "json":
            how = "form"
        body = dict(body) if isinstance(body, dict) else {}
        keys = list(body) + rnd.sample(
            [
                *KEYS,
                "amount",
                "quantity",
                "labour",
                "discount_percent",
                "at",
                "text",
                "staff",
                "part",
                "idempotency_key",
                "form_token",
                "line",
                "decision",
                "satisfaction",
                "shift",
                "date",
                "start_date",
                "end_date",
                "kind",
                "recovered",
                "limit",
                "note",
                "step",
                "done",
            ],
            4,
        )
        for k in rnd.sample(keys, min(len(keys), rnd.randint(1, 5))):
            body[k] = hostile()
        if how == "files" or rnd.random() < 0.05:
            a = http(
                "POST",
                path,
                who[username],
                data=body,
                files={"file": ("x.png", os.urandom(rnd.randint(0, 2000)), "image/png")},
            )
        elif rnd.random() < 0.05:
            a = http(
                "POST",
                path,
                who[username],
                raw=os.urandom(rnd.randint(0, 500)),
                headers={
                    "Content-Type": rnd.choice(
                        [
                            "application/x-www-form-urlencoded",
                            "multipart/form-data; boundary=x",
                            "application/json",
                            "text/plain",
                        ]
                    ),
                    "X-CSRFToken": who[username].cookies.get("csrftoken", ""),
                },
            )
        else:
            a = http("POST", path, who[username], data=body)
        return ("page POST", f"POST {path} {_short(body)!r}"[:500], a)

    def job_api() -> tuple[str, str, Answer]:
        username = rnd.choice(roles)
        op_path, method = rnd.choice(api_ops)
        while method == "post" and (
            op_path.startswith(("/api/v1/staff/import", "/api/v1/orders/import")) or "leave-date" in op_path
        ):
            op_path, method = rnd.choice(
                api_ops
            )  # no hostile staff files or leaving dates: they would sign the roles out
        names = re.findall(r"{(\w+)}", op_path)
        route = op_path.lstrip("/").replace("{", "<").replace("}", ">")
        values: dict[str, Any] = {}
        for name in names:
            kind = kind_of(route, name)
            r = rnd.random()
            if kind in NOT_OBJECTS:
                values[name] = (
                    _not_object_value(kind, truth) if r < 0.7 else rnd.choice(["x", "9" * 30, "%2e%2e", "-1"])
                )
            else:
                values[name] = (
                    own_id(username, kind)
                    if r < 0.7
                    else rnd.choice(["9" * 30, "-1", "0", "abc", "1.5", "1e3", "%00", "18446744073709551616"])
                )
        path = re.sub(r"{(\w+)}", lambda m: requests.utils.quote(str(values[m.group(1)]), safe=""), op_path)
        token = who[username].token
        if method == "get":
            params: dict[str, Any] = {}
            for p in spec["paths"][op_path]["get"].get("parameters", []):
                if p.get("in") == "query" and rnd.random() < 0.6:
                    params[p["name"]] = hostile()
            if rnd.random() < 0.2:
                params[rnd.choice(KEYS)] = hostile()
            if cursors and rnd.random() < 0.15:
                cp, c = rnd.choice(cursors)
                path, params = (
                    cp,
                    {"cursor": tamper_cursor(c), "limit": rnd.choice(["1", "50", "0", "-1", "100000", "x"])},
                )
            return (
                "API GET",
                f"GET {path} {params!r}"[:400],
                http("GET", path, who[username], token=token, params=params, session_auth=False),
            )
        example = api_example(op_path, method)
        r = rnd.random()
        if "webhook" in op_path:
            body = json.dumps(
                mutate_json(
                    {
                        "messages": [
                            {
                                "external_id": "f",
                                "shop": "haidaochuan",
                                "buyer": "b",
                                "direction": "in",
                                "sent_at": "2026-12-06T10:00:00+08:00",
                                "text": "x",
                            }
                        ]
                    }
                )
            ).encode()
            ch = ctx["qianniu_secret"]
            stamp = rnd.choice([str(int(time.time())), str(int(time.time()) - 400), "x", "", "1e30", "-1"])
            sig = (hmac.new(ch.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest() if rnd.random() < 0.7
                   else "".join(c for c in hostile() if 32 <= ord(c) < 127))  # fmt: skip
            prefix = rnd.choice(["v2=", "v2=", "sha256=", "", "v3="])
            a = http(
                "POST",
                path,
                None,
                raw=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Kefu-Signature": prefix + sig,
                    "X-Kefu-Timestamp": stamp,
                },
            )
            return ("webhook", f"POST {path} sig={prefix}… ts={stamp!r} {body[:200]!r}", a)
        if r < 0.1:
            raw = rnd.choice(
                [
                    b"{",
                    b"[]",
                    b"null",
                    b'"x"',
                    b'{"a":' * 3000,
                    os.urandom(64),
                    b'{"x": 1e999}',
                    json.dumps(example).encode()[: rnd.randint(0, 40)],
                    b"\xff\xfe{}",
                    b'{"a": "\\ud800"}',
                ]
            )
            a = http(
                "POST",
                path,
                who[username],
                token=token,
                raw=raw,
                headers={"Content-Type": "application/json"},
                session_auth=False,
            )
            return ("API POST raw", f"POST {path} {raw[:200]!r}", a)
        body = mutate_json(example)
        a = http("POST", path, who[username], token=token, json_body=body, session_auth=False)
        return ("API POST", f"POST {path} {json.dumps(body, ensure_ascii=False)[:400]}", a)

    def job_widget() -> tuple[str, str, Answer]:
        code = ctx["fixtures"]["widget_1"]
        origin = rnd.choice(["https://shop1.example", "https://evil.example", ""])
        ip = f"10.{rnd.randint(20, 250)}.{rnd.randint(0, 250)}.{rnd.randint(1, 250)}"
        if rnd.random() < 0.5:
            params = {
                "visitor": rnd.choice([ctx.get("fuzz_visitor", ""), hostile(), "a" * 32 + "." + "b" * 32]),
                "after": hostile(),
            }
            return (
                "widget GET",
                f"GET widget {params!r}"[:300],
                http(
                    "GET",
                    f"/desk/widget/{rnd.choice([code, 'x', hostile()[:20] or 'y'])}/messages",
                    None,
                    params=params,
                    headers={"Origin": origin, "X-Forwarded-For": ip},
                ),
            )
        body = mutate_json({"visitor": ctx.get("fuzz_visitor", ""), "text": "在吗", "id": "abcdefghijklmnopq"})
        raw = json.dumps(body).encode() if rnd.random() < 0.9 else os.urandom(40)
        return (
            "widget POST",
            f"POST widget {raw[:200]!r}",
            http(
                "POST",
                f"/desk/widget/{code}/messages",
                None,
                raw=raw,
                headers={"Origin": origin, "X-Forwarded-For": ip, "Content-Type": "application/json"},
            ),
        )

    v = http(
        "POST",
        f"/desk/widget/{ctx['fixtures']['widget_1']}/messages?new=visitor",
        None,
        raw=b"",
        headers={"Origin": "https://shop1.example", "X-Forwarded-For": "10.8.0.1"},
    )
    try:
        ctx["fuzz_visitor"] = v.json()["visitor"]
    except (ValueError, KeyError):
        ctx["fuzz_visitor"] = ""

    mix = [(job_page_get, 30), (job_page_post, 25), (job_api, 42), (job_widget, 3)]
    pool_of: list[Callable[[], tuple[str, str, Answer]]] = [f for f, w in mix for _ in range(w)]

    def one(_i: int) -> None:
        job = rnd.choice(pool_of)
        try:
            part, what, a = job()
        except Exception as exc:
            with lock:
                res["by_part"]["probe_error"] += 1
                res.setdefault("probe_errors", []).append(repr(exc)[:200])
            return
        if a.status == -1:
            with lock:
                res["by_part"]["not_sent"] += 1
            return
        with lock:
            res["requests"] += 1
            res["status"][a.status] += 1
            res["by_part"][part] += 1
            if a.status >= 500 or a.status == 0:
                res["5xx"] += 1
                if len(res["5xx_samples"]) < 60:
                    res["5xx_samples"].append(
                        {"part": part, "request": what, "status": a.status, "answer": a.text()[:300]}
                    )

    while res["requests"] < target:
        with ThreadPoolExecutor(ctx["args"].threads) as pool:
            list(pool.map(one, range(target - res["requests"])))
    log(f"fuzz: {res['requests']} requests, {res['5xx']} answers ≥ 500")
    return res


def _example(schema: Any, spec: dict[str, Any], rnd: random.Random, depth: int = 0) -> Any:
    if depth > 6 or not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        return _example(spec["components"]["schemas"][schema["$ref"].split("/")[-1]], spec, rnd, depth + 1)
    if "anyOf" in schema:
        return _example(schema["anyOf"][0], spec, rnd, depth + 1)
    if "enum" in schema:
        return schema["enum"][0]
    t = schema.get("type")
    if t == "object" or "properties" in schema:
        return {k: _example(v, spec, rnd, depth + 1) for k, v in schema.get("properties", {}).items()}
    if t == "array":
        return [_example(schema.get("items", {}), spec, rnd, depth + 1)]
    if t == "integer":
        return 1
    if t == "number":
        return 1.5
    if t == "boolean":
        return True
    if schema.get("format") == "date":
        return "2026-11-01"
    if schema.get("format") == "date-time":
        return "2026-11-01T10:00:00+08:00"
    return "x"


# ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="kefu_probe")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--orders-per-shop", type=int, default=200)
    parser.add_argument("--fuzz", type=int, default=12000, help="fuzzed requests (≥ 10,000 for the issue)")
    parser.add_argument("--parallel", type=int, default=100, help="requests at once per parallel path")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of every parallel path (races are not certain to show)"
    )
    parser.add_argument("--per-reason", type=int, default=2, help="objects per route and reason in the read walk")
    parser.add_argument("--threads", type=int, default=8, help="client threads for the walks and the fuzz")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--only", default="reads,writes,parallel,fuzz", help="phases; 'none' with --keep: only set up")
    parser.add_argument("--keep", action="store_true", help="leave the server running")
    parser.add_argument("--report", default="", help="also write the full report (every finding) as JSON here")
    args = parser.parse_args()
    phases = set(args.only.split(","))
    inst = Instance(args)
    global BASE
    BASE = inst.base
    summary: dict[str, Any] = {"probe": "issue 16", "database": "postgresql", "workers": args.workers}
    started = time.monotonic()
    try:
        inst.create_database()
        inst.demo()
        inst.django()
        made = fixtures()
        log("fixtures and private markers in place")
        inst.start()
        from kefu.core import reports as report_registry
        from kefu.desk.models import Channel
        from kefu.service.models import Part
        from kefu.workflow.models import StatusLabel

        who: dict[str, Who] = {}
        for i, u in enumerate(ROLES):
            w = Who(u, f"10.16.0.{i + 10}")
            sign_in(w)
            w.token = made["tokens"][u]
            w.user_id = made["user_ids"][u]
            who[u] = w
        log(f"{len(who)} roles signed in through the sign-in form")
        ctx: dict[str, Any] = {
            "args": args, "instance": inst, "who": who, "routes": url_patterns(), "truth": Truth(), "fixtures": made,
            "fp": Footprint(f"postgresql://postgres@127.0.0.1:5432/{args.db}"),
            "report_slugs": [r.slug for r in report_registry.all_reports()],
            "label_ids": dict(StatusLabel.objects.filter(workflow="aftersales.case").values_list("name", "id")),
            "part_id": Part.objects.order_by("-on_hand").values_list("id", flat=True).first(),
            "qianniu_secret": Channel.objects.get(code="qianniu").secret,
        }  # fmt: skip
        full: dict[str, Any] = {}
        if "reads" in phases:
            r = phase_reads(ctx)
            full["reads"] = r
            summary["reads"] = {
                "object_routes": r["object_routes"], "roles": r["roles"], "route_x_role": r["route_role_pairs"],
                "object_requests": r["requests"], "post_only_routes": r["post_only_routes"],
                "leaks": len(r["leaks"]), "leaks_by_reason": dict(r["leaks_by_reason"]),
                "list_export_search_requests": r["list_requests"], "private_markers_seen": len(r["markers"]),
                "markers_by_reason": dict(r["markers_by_reason"]), "in_scope_markers_seen": r["markers_ok"], "in_scope_markers_by_kind": dict(r["markers_ok_by_kind"]),
                "object_status": {str(k): v for k, v in sorted(r["object_status"].items())},
                "in_scope_controls_status": {str(k): v for k, v in sorted(r["controls"].items())}, "5xx": len(r["5xx"]),
                "status": {str(k): v for k, v in sorted(r["status"].items())},
            }  # fmt: skip
        if "writes" in phases:
            w_ = phase_writes(ctx)
            full["writes"] = w_
            summary["writes"] = {
                "post_object_routes": w_["routes"], "object_route_attempts": w_["object_route_attempts"],
                "object_route_succeeded": w_["object_route_succeeded_count"], "controls_in_scope": w_["controls"],
                "controls_that_wrote": w_["controls_succeeded"], "body_id_attempts": w_["body_id_attempts"],
                "body_id_succeeded": w_["body_id_succeeded_count"],
                "body_controls_own_team_ids": w_["body_controls"], "body_controls_that_wrote": w_["body_controls_wrote"], "own_team_outside_work_changes": len(w_["unexplained_changes"]),
                "object_attempt_status": {why: dict(sorted(c.items())) for why, c in w_["attempt_status"].items()},
                "object_attempts_not_403_404": len(w_["answered_not_404"]),
                "5xx": len(w_["5xx"]), "status": {str(k): v for k, v in sorted(w_["status"].items())},
            }  # fmt: skip
        if "parallel" in phases:
            p = phase_parallel(ctx)
            full["parallel"] = p
            summary["parallel"] = {
                "paths": len([x for x in p if "requests" in x]), "requests": sum(x.get("requests", 0) for x in p),
                "5xx": sum(x.get("5xx", 0) for x in p), "broken_invariants": [x["path"] for x in p if x.get("invariant") == "BROKEN"],
                "probe_errors": [x["path"] for x in p if "error" in x],
                "rounds": ctx["args"].rounds,
                "per_path": [{k: x.get(k) for k in ("path", "rounds", "requests", "status", "5xx", "effects", "effects_per_round",
                                                     "invariant", "error", "skipped")
                              if x.get(k) is not None} for x in p],
            }  # fmt: skip
        if "fuzz" in phases:
            f = phase_fuzz(ctx)
            full["fuzz"] = f
            summary["fuzz"] = {"requests": f["requests"], "5xx": f["5xx"], "by_part": dict(f["by_part"]),
                               "status": {str(k): v for k, v in sorted(f["status"].items())}}  # fmt: skip
        summary["seconds"] = round(time.monotonic() - started)
        summary["server_log"] = str(inst.log_path)
        report_path = Path(args.report) if args.report else inst.var / "probe-report.json"
        report_path.write_text(
            json.dumps({"summary": summary, **full}, ensure_ascii=False, indent=1, default=_jsonable)
        )
        summary["report"] = str(report_path)
        _print_findings(full)
        print(json.dumps(summary, ensure_ascii=False, default=_jsonable), flush=True)
        if args.keep:
            log(f"--keep: the server stays up on {inst.base} (kill the process groups {[p.pid for p in inst.procs]})")
            return
    finally:
        if not args.keep:
            inst.stop()


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, (Decimal, dt.date)):
        return str(value)
    if isinstance(value, collections.Counter):
        return dict(value)
    return repr(value)


def _print_findings(full: dict[str, Any]) -> None:
    def show(title: str, rows: list[Any], limit: int = 25) -> None:
        if rows:
            print(f"--- {title}: {len(rows)}", flush=True)
            for row in rows[:limit]:
                print("   ", json.dumps(row, ensure_ascii=False, default=_jsonable)[:600], flush=True)

    r = full.get("reads", {})
    show("read leaks (2xx on an object outside scope)", r.get("leaks", []))
    show("private markers outside scope", _dedupe(r.get("markers", []), ("role", "marker")), 40)
    show("5xx in the read walk", r.get("5xx", []))
    w = full.get("writes", {})
    show("cross-team writes on object routes that changed data", w.get("object_route_succeeded", []))
    show("other-team ids in bodies that changed the other team", w.get("body_id_succeeded", []))
    show("own team's data outside the role's work changed", w.get("unexplained_changes", []))
    show(
        "cross-team POSTs answered other than 403/404 (no data changed unless listed above)",
        w.get("answered_not_404", []),
    )
    show("5xx in the write walk", w.get("5xx", []))
    show(
        "parallel paths",
        [x for x in full.get("parallel", []) if x.get("invariant") == "BROKEN" or x.get("5xx") or "error" in x],
    )
    show("fuzz answers ≥ 500", full.get("fuzz", {}).get("5xx_samples", []), 60)


def _dedupe(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for row in rows:
        k = tuple(row.get(x) for x in keys)
        if k not in seen:
            seen.add(k)
            out.append(row)
    return out


if __name__ == "__main__":
    main()
