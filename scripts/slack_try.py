"""`partnermatch slack-try REQUEST`: the Slack bot without Slack, for an admin setting it up.

It signs a `/partners` command as Slack would (with PARTNERMATCH_SLACK_SIGNING_SECRET, or a
throwaway secret when none is set), sends it to the app started in this process on the configured
database and index, catches what the app posts back to the command's response_url on a local
port, and prints those messages' blocks as JSON: what the user would see in Slack.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any
from urllib.parse import urlencode

import typer
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier

from service.app import create_app
from service.settings import Settings


def slack_try(
    request: Annotated[str, typer.Argument(help="What follows /partners, e.g. 定期購入を入れたい")],
    user: Annotated[str, typer.Option(help="The Slack user id asking")] = "U0DRYRUN",
    team: Annotated[str, typer.Option(help="The workspace id the command comes from")] = "T0DRYRUN",
    channel: Annotated[str, typer.Option(help="The channel id (D... is a direct message)")] = "D0DRYRUN",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the answer")] = 60.0,
) -> None:
    """Sign a /partners command, send it to the app in this process, print the answer's blocks."""
    settings = Settings()
    secret = settings.slack_signing_secret or secrets.token_hex(16)
    with _catcher() as (url, received):
        dry = settings.model_copy(update={
            "slack_signing_secret": secret, "slack_response_url_prefixes": [url]})
        body = urlencode({"team_id": team, "user_id": user, "user_name": user.lower(),
                          "channel_id": channel, "command": "/partners", "text": request,
                          "response_url": f"{url}hook", "trigger_id": f"dry-{time.time()}"}).encode()
        stamp = str(int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature or ""}
        with TestClient(create_app(dry)) as client:
            answer = client.post("/slack/commands", content=body, headers=headers)
            typer.echo(json.dumps({"acknowledgement": answer.json()}, ensure_ascii=False, indent=2))
            deadline = time.monotonic() + wait
            while not received and time.monotonic() < deadline:
                time.sleep(0.1)
    if not received:
        typer.echo("no answer was posted back", err=True)
        raise typer.Exit(1)
    for message in received:
        typer.echo(json.dumps(message, ensure_ascii=False, indent=2))


@contextmanager
def _catcher() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local stand-in for Slack's response_url: every JSON body posted to it, kept."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            length = int(self.headers.get("Content-Length", 0))
            received.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", received
    finally:
        server.shutdown()
