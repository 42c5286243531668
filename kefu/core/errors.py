"""One application error type with stable codes; the API and the views turn it into one shape.

Every code is a member of ``ErrorCode`` with its meaning (docs/errors.md is generated from it by
``manage.py errorcodes`` and checked in CI); a test fails when code raises an undeclared code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.functional import Promise

# A 503 asks the client to retry after this many seconds (a database restart takes a few).
RETRY_AFTER_SECONDS = 5


class ErrorCode(StrEnum):
    # the request as a whole
    VALIDATION_ERROR = "validation_error"
    OUT_OF_RANGE = "out_of_range"
    BAD_CURSOR = "bad_cursor"
    UNAUTHENTICATED = "unauthenticated"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    HTTP_ERROR = "http_error"
    SERVER_ERROR = "server_error"
    UNAVAILABLE = "unavailable"
    CHANGED = "changed"
    IDEMPOTENCY_KEY = "idempotency_key"
    # imports
    IMPORT_FORMAT = "import_format"
    IMPORT_EMPTY = "import_empty"
    IMPORT_FILE_TYPE = "import_file_type"
    IMPORT_TOO_LARGE = "import_too_large"
    # organisation
    SHOP_EXISTS = "shop_exists"
    USER_EXISTS = "user_exists"
    UNKNOWN_POSITION = "unknown_position"
    UNKNOWN_STAFF = "unknown_staff"
    STAFF_HAS_USER = "staff_has_user"
    TOKEN_EXPIRY = "token_expiry"
    POLICY_INVALID = "policy_invalid"
    # workflow core
    TRANSITION = "transition"
    TRANSITION_GUARD = "transition_guard"
    NO_STATUS = "no_status"
    UNKNOWN_STATUS = "unknown_status"
    CHECKLIST_STEP = "checklist_step"
    ATTACHMENT_EMPTY = "attachment_empty"
    ATTACHMENT_SIZE = "attachment_size"
    ATTACHMENT_TYPE = "attachment_type"
    ATTACHMENT_KIND = "attachment_kind"
    LABEL_NAME = "label_name"
    LABEL_CATEGORY = "label_category"
    LABEL_EXISTS = "label_exists"
    LABEL_LAST = "label_last"
    LABEL_IN_USE = "label_in_use"
    # workforce
    UNKNOWN_SHIFT = "unknown_shift"
    NOT_MONDAY = "not_monday"
    MAKEUP_KIND = "makeup_kind"
    PUNCH_KIND = "punch_kind"
    PUNCH_TIME = "punch_time"
    REQUEST_KIND = "request_kind"
    REQUEST_DATES = "request_dates"
    REQUEST_OVERLAP = "request_overlap"
    MAKEUP_NOT_MISSING = "makeup_not_missing"
    MAKEUP_FUTURE = "makeup_future"
    LEAVE_DATE = "leave_date"
    REQUEST_STATE = "request_state"
    REQUEST_TOO_LATE = "request_too_late"
    COMMENT_REQUIRED = "comment_required"
    RED_PACKET_SENT = "red_packet_sent"
    UNKNOWN_POINT_ITEM = "unknown_point_item"
    POINTS_REVERSAL = "points_reversal"
    # field service
    SERVICE_REQUEST = "service_request"
    WARRANTY_FACTS = "warranty_facts"
    STOCK = "stock"
    STOCK_SHORT = "stock_short"
    SIGNATURE = "signature"
    AMOUNT = "amount"
    AGREEMENT = "agreement"
    # customer care
    REST_HOURS = "rest_hours"
    COMPLAINT = "complaint"
    VISIT = "visit"
    ASSIGNMENT = "assignment"
    # after-sales
    CASE_TYPE = "case_type"
    CASE_SHOP = "case_shop"
    CASE_FACTS = "case_facts"
    CASE_PENDING_REFUND = "case_pending_refund"
    DEADLINE = "deadline"
    RESPONSIBILITY = "responsibility"
    RESPONSIBLE_AGENT = "responsible_agent"
    RESOLUTION = "resolution"
    RESOLUTION_CHOSEN = "resolution_chosen"
    MONEY_KIND = "money_kind"
    MONEY_AMOUNT = "money_amount"
    FREIGHT_REASON = "freight_reason"
    REFUND_GRANT = "refund_grant"
    REFUND_DECIDED = "refund_decided"
    REFUND_ID = "refund_id"
    REFUND_TIMEOUT = "refund_timeout"
    CLAIM_EXISTS = "claim_exists"
    CLAIM_CHANGED = "claim_changed"
    CLAIM_TRANSITION = "claim_transition"
    REVIEW_SHOP = "review_shop"
    REVIEW_ORDER = "review_order"
    REVIEW_CONTENT = "review_content"
    REVIEW_REPLY = "review_reply"
    # service desk
    UNKNOWN_CHANNEL = "unknown_channel"
    CHANNEL_INACTIVE = "channel_inactive"
    BAD_SIGNATURE = "bad_signature"
    BATCH_TOO_LARGE = "batch_too_large"
    TOO_LARGE = "too_large"
    NO_CHANNEL = "no_channel"
    NO_CONVERSATION = "no_conversation"
    REPLY_EMPTY = "reply_empty"
    REPLY_TOO_LONG = "reply_too_long"
    TRANSFER_TARGET = "transfer_target"
    PRESENCE_STATE = "presence_state"
    CHANNEL_CODE = "channel_code"
    CHANNEL_SHOP = "channel_shop"
    CHANNEL_ORIGIN = "channel_origin"
    VISITOR_LIMIT = "visitor_limit"
    VISITOR_UNKNOWN = "visitor_unknown"
    REPLAYED = "replayed"
    # connectors
    CONNECTOR = "connector"
    CONNECTOR_EXISTS = "connector_exists"
    CONNECTOR_KEY = "connector_key"
    CONNECTOR_BUSY = "connector_busy"
    # staffing and quality
    INFEASIBLE = "infeasible"
    FIXED = "fixed"
    QA_RECORDED = "qa_recorded"
    QA_NOT_CONFIRMED = "qa_not_confirmed"
    QA_NO_AGENT = "qa_no_agent"
    QA_APPEALED = "qa_appealed"


ERROR_MEANINGS: dict[ErrorCode, str] = {
    ErrorCode.VALIDATION_ERROR: "A parameter, field or body is malformed (details list what).",
    ErrorCode.OUT_OF_RANGE: "A date or time lies outside 2000–2100, or a number beyond what is stored.",
    ErrorCode.BAD_CURSOR: "The pagination cursor was not one this server handed out.",
    ErrorCode.UNAUTHENTICATED: "No valid session or API token (401).",
    ErrorCode.PERMISSION_DENIED: "The actor's position lacks the capability (403).",
    ErrorCode.NOT_FOUND: "No such object, or it lies outside the actor's scope (404; the two look alike).",
    ErrorCode.METHOD_NOT_ALLOWED: "The path exists but not for this HTTP method (405).",
    ErrorCode.HTTP_ERROR: "A framework-level HTTP refusal (its status says which).",
    ErrorCode.SERVER_ERROR: "An unexpected failure; it is logged (500).",
    ErrorCode.UNAVAILABLE: "The database cannot be reached (a restart, a fail-over); nothing was saved. Retry after "
    "the seconds in Retry-After (503).",
    ErrorCode.CHANGED: "Someone else changed the record meanwhile; reload and retry (409).",
    ErrorCode.IDEMPOTENCY_KEY: "The idempotency key was already used for a different object (409).",
    ErrorCode.IMPORT_FORMAT: "The uploaded file cannot be read as a whole (format, encoding, bombs).",
    ErrorCode.IMPORT_EMPTY: "The uploaded file is empty.",
    ErrorCode.IMPORT_FILE_TYPE: "Only CSV or XLSX files are accepted.",
    ErrorCode.IMPORT_TOO_LARGE: "The file exceeds KEFU_IMPORT_MAX_BYTES, or needs more memory than an import may use.",
    ErrorCode.SHOP_EXISTS: "A shop with this name exists.",
    ErrorCode.USER_EXISTS: "A user with this username exists.",
    ErrorCode.UNKNOWN_POSITION: "The position is not one of the department's positions.",
    ErrorCode.UNKNOWN_STAFF: "No staff member with this employee number.",
    ErrorCode.STAFF_HAS_USER: "The staff member already has a sign-in.",
    ErrorCode.TOKEN_EXPIRY: "An API token's validity must be 1–3650 days.",
    ErrorCode.POLICY_INVALID: "The handbook policy document failed validation (details list each problem).",
    ErrorCode.TRANSITION: "The record's category does not allow moving to that status label.",
    ErrorCode.TRANSITION_GUARD: "The module's rule for that status is not met yet (e.g. no resolution chosen).",
    ErrorCode.NO_STATUS: "A workflow category has no status label.",
    ErrorCode.UNKNOWN_STATUS: "No status label or category by that name.",
    ErrorCode.CHECKLIST_STEP: "The step is not on the record's checklist.",
    ErrorCode.ATTACHMENT_EMPTY: "The attached file is empty.",
    ErrorCode.ATTACHMENT_SIZE: "The attached file is larger than 10 MB.",
    ErrorCode.ATTACHMENT_TYPE: "The attached file is not an image, PDF or plain text (checked by content).",
    ErrorCode.ATTACHMENT_KIND: "The kind of attachment is not one the workflow declares.",
    ErrorCode.LABEL_NAME: "A status label needs a name of 1–40 characters.",
    ErrorCode.LABEL_CATEGORY: "The category is not one of the workflow's categories.",
    ErrorCode.LABEL_EXISTS: "A status label with this name exists in the workflow (409).",
    ErrorCode.LABEL_LAST: "The last label of a category cannot be removed or moved away.",
    ErrorCode.LABEL_IN_USE: "Records carry the label; it cannot be removed.",
    ErrorCode.UNKNOWN_SHIFT: "The shift code is not in the policy in force.",
    ErrorCode.NOT_MONDAY: "Roster weeks are copied from Monday to Monday.",
    ErrorCode.MAKEUP_KIND: "A make-up punch is on-duty or off-duty.",
    ErrorCode.PUNCH_KIND: "A punch is on, off or unknown.",
    ErrorCode.PUNCH_TIME: "The punch time is missing or out of range.",
    ErrorCode.REQUEST_KIND: "Unknown kind of rest or leave request.",
    ErrorCode.REQUEST_DATES: "The request's dates are inverted, too long (over a year) or not one day for a half day.",
    ErrorCode.REQUEST_OVERLAP: "Another rest, leave or trip request already holds one of these days (R-WF-23); "
    "the message names it.",
    ErrorCode.LEAVE_DATE: "A leaving date before the hire date (R-WF-18).",
    ErrorCode.MAKEUP_NOT_MISSING: "A make-up where a real punch of that kind exists near it (R-WF-24).",
    ErrorCode.MAKEUP_FUTURE: "A make-up dated after now (it certifies a punch that was missed).",
    ErrorCode.REQUEST_STATE: "The request is not in a state that allows this (409 when it changed meanwhile).",
    ErrorCode.REQUEST_TOO_LATE: "The request comes later than the policy's notice period (R-WF-8/9).",
    ErrorCode.COMMENT_REQUIRED: "A rejection needs a reason.",
    ErrorCode.RED_PACKET_SENT: "The red packet is already marked sent (409).",
    ErrorCode.UNKNOWN_POINT_ITEM: "The points item is not in the policy in force.",
    ErrorCode.POINTS_REVERSAL: "A reversal cannot be reversed, and an entry is reversed once (409).",
    ErrorCode.SERVICE_REQUEST: "The service request's details are missing or invalid (the message says which).",
    ErrorCode.WARRANTY_FACTS: "The warranty facts are not valid (R-SVC-1 … R-SVC-5; the message says which).",
    ErrorCode.STOCK: "The part or the quantity is not valid for this stock movement.",
    ErrorCode.STOCK_SHORT: "Not enough of the part in stock: nothing was issued (409).",
    ErrorCode.SIGNATURE: "The customer's signature or the signer's name is missing or not a drawing.",
    ErrorCode.AMOUNT: "An amount or percentage is malformed or out of range.",
    ErrorCode.AGREEMENT: "The service agreement's details are missing or invalid (the message says which).",
    ErrorCode.REST_HOURS: "The time falls in the customer's rest hours (R-CARE-3): choose another.",
    ErrorCode.COMPLAINT: "The complaint's details are missing or invalid (the message says which).",
    ErrorCode.VISIT: "The return visit's details are missing or invalid (the message says which).",
    ErrorCode.ASSIGNMENT: "The customer assignment cannot be made (no agents, or a customer outside scope).",
    ErrorCode.CASE_TYPE: "Unknown after-sales case type.",
    ErrorCode.CASE_SHOP: "A case needs a shop or an order inside the actor's scope.",
    ErrorCode.CASE_FACTS: "The case facts do not satisfy the after-sales rules (details say which).",
    ErrorCode.CASE_PENDING_REFUND: "A case with a refund awaiting approval cannot be closed.",
    ErrorCode.DEADLINE: "The platform deadline is not a valid time.",
    ErrorCode.RESPONSIBILITY: "Unknown responsible party.",
    ErrorCode.RESPONSIBLE_AGENT: "No agent who took the order is known (R-AS-8), or that person has left.",
    ErrorCode.RESOLUTION: "The resolution is not proposed for this case.",
    ErrorCode.RESOLUTION_CHOSEN: "The case's resolution was already chosen; it is chosen once (409).",
    ErrorCode.MONEY_KIND: "Unknown kind of money line.",
    ErrorCode.MONEY_AMOUNT: "The amount is malformed, not positive or too large.",
    ErrorCode.FREIGHT_REASON: "Freight above the R-AS-1 standard needs a reason (and then the supervisor's approval).",
    ErrorCode.REFUND_GRANT: "Revoking a refund-approval permission the person does not hold.",
    ErrorCode.REFUND_DECIDED: "The refund was already approved or rejected (409).",
    ErrorCode.REFUND_ID: "A pushed refund record needs its platform refund id (at most 64 characters).",
    ErrorCode.REFUND_TIMEOUT: "A pushed refund record's reply deadline is not a date and time in 2000–2100.",
    ErrorCode.CLAIM_EXISTS: "The case already has a courier claim (409).",
    ErrorCode.CLAIM_CHANGED: "The claim changed meanwhile (409).",
    ErrorCode.CLAIM_TRANSITION: "The claim cannot move to that status from its current one (409).",
    ErrorCode.REVIEW_SHOP: "The review's shop is outside the actor's scope.",
    ErrorCode.REVIEW_ORDER: "The review's order belongs to another shop.",
    ErrorCode.REVIEW_CONTENT: "A negative review needs its text.",
    ErrorCode.REVIEW_REPLY: "The explanation reply is required.",
    ErrorCode.UNKNOWN_CHANNEL: "No active desk channel with this code (404).",
    ErrorCode.CHANNEL_INACTIVE: "The desk channel is switched off (403).",
    ErrorCode.BAD_SIGNATURE: "A webhook without a valid HMAC signature or with a stale timestamp (401).",
    ErrorCode.BATCH_TOO_LARGE: "More than 500 messages in one request (413).",
    ErrorCode.TOO_LARGE: "The request body is too large (413).",
    ErrorCode.NO_CHANNEL: "The conversation has no channel to answer through.",
    ErrorCode.NO_CONVERSATION: "A payment-urging task whose order has no conversation cannot send a message.",
    ErrorCode.REPLY_EMPTY: "A reply needs text.",
    ErrorCode.REPLY_TOO_LONG: "A reply has at most 5,000 characters.",
    ErrorCode.TRANSFER_TARGET: "A transfer needs an agent or a team.",
    ErrorCode.PRESENCE_STATE: "A desk status is online, away or offline.",
    ErrorCode.CHANNEL_CODE: "A channel code is 2–40 lower-case letters, digits or dashes, and unique.",
    ErrorCode.CHANNEL_SHOP: "A web chat widget channel belongs to one shop.",
    ErrorCode.CHANNEL_ORIGIN: "A widget's allowed origin must look like https://shop.example.com.",
    ErrorCode.VISITOR_LIMIT: "A web chat visitor sent too many messages; wait a minute (429).",
    ErrorCode.REPLAYED: "A signed webhook request that was already received; re-sign with a fresh timestamp (409).",
    ErrorCode.VISITOR_UNKNOWN: "A web chat visitor identity this server did not issue; the widget asks for a new one.",
    ErrorCode.CONNECTOR: "The connector's settings are missing or invalid (the message says which).",
    ErrorCode.CONNECTOR_EXISTS: "A connector with this name exists (409).",
    ErrorCode.CONNECTOR_KEY: "The stored credentials cannot be decrypted with the server's KEFU_CONNECTOR_KEYS.",
    ErrorCode.CONNECTOR_BUSY: "The connector is syncing already; this run was not started (409).",
    ErrorCode.INFEASIBLE: "No roster keeps every handbook rule for that team and month (409).",
    ErrorCode.FIXED: "A proposed roster's day fixed by approved leave or the employment dates (409).",
    ErrorCode.QA_RECORDED: "The quality hit is recorded as points: reverse them, or ask who records points (409).",
    ErrorCode.QA_NOT_CONFIRMED: "Only a confirmed quality hit becomes points (409).",
    ErrorCode.QA_NO_AGENT: "The quality hit blames no agent, so it cannot become points (409).",
    ErrorCode.QA_APPEALED: "The quality hit was already appealed; one appeal per hit (409).",
}


def error_codes_markdown() -> str:
    """docs/errors.md: every code with its meaning (``manage.py errorcodes`` writes or checks it)."""
    lines = [
        "# Error codes",
        "",
        "Every refusal, on pages and in the API, carries one of these codes. The API answers",
        '`{"error": {"code": "<code>", "message": "<in the request\'s language>", "details": …}}`',
        "with the HTTP status given by the situation (400 unless noted). Generated from",
        "`kefu.core.errors.ErrorCode` by `python manage.py errorcodes`; CI checks it is current.",
        "",
        "| code | meaning |",
        "|---|---|",
    ]
    lines += [f"| `{code.value}` | {ERROR_MEANINGS[code]} |" for code in ErrorCode]
    return "\n".join(lines) + "\n"


class ApplicationError(Exception):
    """A domain rule refused an action. ``code`` is stable and documented; ``message`` is for people."""

    status = 400

    def __init__(
        self, code: ErrorCode | str, message: str | Promise, *, details: Any = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message: Any = message  # a str or a lazy translation
        self.details = details
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": str(self.message), "details": self.details}}


class PermissionDenied(ApplicationError):
    status = 403

    def __init__(self, message: str | Promise | None = None, *, code: str = "permission_denied") -> None:
        from django.utils.translation import gettext_lazy

        super().__init__(code, message if message is not None else gettext_lazy("Your role does not allow this."))


def database_unreachable(exc: BaseException) -> bool:
    """A connection that could not be made or was lost (not a query's own error, which is a bug)."""
    from django.db import InterfaceError, OperationalError

    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if "database is locked" in str(exc):  # SQLite busy past busy_timeout: try again
        return True
    cause = exc.__cause__
    try:
        import psycopg

        return isinstance(cause, psycopg.OperationalError) and not isinstance(cause, psycopg.errors.QueryCanceled)
    except ImportError:  # pragma: no cover
        return False
