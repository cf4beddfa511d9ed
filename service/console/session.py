"""The console's sign-in: a signed, expiring session cookie naming an API key, and the CSRF token
every form carries."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from catalog.tables import ApiKey
from service.auth.callers import Caller
from service.settings import Settings

COOKIE = "pm_session"
LOGIN_COOKIE = "pm_login"  # the CSRF token of the sign-in form, before there is a session


class SignInNeeded(Exception):
    """No valid session: the page answers with a redirect to /login."""


class CsrfRefused(Exception):
    """A form sent without the token of its session: 403."""


@dataclass(frozen=True)
class ConsoleUser:
    caller: Caller
    csrf: str


class Sessions:
    """Signs and reads session cookies with the settings' secret (else one of this process)."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.console_secret or secrets.token_urlsafe(32)
        self._signer = URLSafeTimedSerializer(secret, salt="partnermatch-console")
        self.max_age = int(settings.console_session_hours * 3600)
        self.secure = settings.console_secure_cookie

    def cookie_value(self, caller: Caller) -> str:
        return self._signer.dumps({"key": caller.id, "csrf": secrets.token_urlsafe(24)})

    def read(self, value: str | None) -> dict[str, str] | None:
        if not value:
            return None
        try:
            return self._signer.loads(value, max_age=self.max_age)
        except BadSignature:  # also an expired one (SignatureExpired is a BadSignature)
            return None

    def cookie_options(self) -> dict[str, object]:
        return {"httponly": True, "samesite": "lax", "secure": self.secure, "path": "/"}


def current_user(request: Request, session: Session) -> ConsoleUser:
    """The signed-in user, read again from the key each time: a revoked key ends its sessions."""
    data = request.app.state.console_sessions.read(request.cookies.get(COOKIE))
    if data is None:
        raise SignInNeeded
    key = session.get(ApiKey, data["key"])
    if key is None or key.revoked_at is not None:
        raise SignInNeeded
    return ConsoleUser(Caller(id=key.id, name=key.name, role=key.role), data["csrf"])


def check_csrf(expected: str | None, sent: str | None) -> None:
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRefused
