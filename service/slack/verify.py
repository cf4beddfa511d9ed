"""Slack request signatures, checked with slack_sdk's `SignatureVerifier` (no hand-written HMAC)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request
from slack_sdk.signature import Clock, SignatureVerifier

from service.errors import Unauthorized


class BadSignature(Unauthorized):
    headers = None  # not a bearer-token route: no WWW-Authenticate challenge


def is_signed(secret: str, body: bytes, headers: Mapping[str, str], clock: Clock | None = None) -> bool:
    """True when Slack signed this body with `secret` less than five minutes ago."""
    if not secret.strip():
        return False  # Slack not configured: nothing can be signed
    verifier = SignatureVerifier(secret, clock or Clock())
    try:
        return verifier.is_valid_request(body, dict(headers))
    except ValueError:  # a timestamp that is not a number
        return False


async def signed_body(request: Request) -> bytes:
    """The raw body of a request Slack signed; anything else is refused before it is read further."""
    body = await request.body()
    if not is_signed(request.app.state.settings.slack_signing_secret, body, request.headers):
        raise BadSignature("missing, bad or stale Slack signature")
    return body


SignedBody = Annotated[bytes, Depends(signed_body)]
