"""What the core declares (issue 19): the verbs of sign-in, imports, policy versions and the outbox."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .rulebook import ModuleRules, Verbs


class Verb(Verbs):
    POLICY_VERSION_SAVED = "policy.version_saved", _("saved a new handbook policy version")
    IMPORT_CRASHED = "import.crashed", _("import stopped unexpectedly")
    IMPORT_RESUMED = "import.resumed", _("resumed the import after its worker stopped")
    AUTH_LOGIN = "auth.login", _("signed in")
    AUTH_LOGIN_FAILED = "auth.login_failed", _("failed to sign in")
    AUTH_LOGIN_REFUSED = "auth.login_refused", _("was refused sign-in (too many failures)")
    AUTH_LOGOUT = "auth.logout", _("signed out")
    AUTH_TOKEN_FAILED = "auth.token_failed", _("presented an invalid API token")
    OUTBOX_RETRIED = "outbox.retried", _("sent a message that had not gone out again")


RULES = ModuleRules(module="core", order=0, verbs=Verb)
