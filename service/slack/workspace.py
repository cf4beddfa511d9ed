"""Who is asking from Slack, and where: workspaces, roles, channels, and where answers may go.

Negotiation notes show only in answers built for a role that may read them (pm or higher), only
to users of an allowed workspace or the one that installed the app (an unmapped user of another
workspace, reached through Slack Connect, or a guest reads as a `viewer`), and only in channels
that are not shared with another organisation. The bot token lets us ask Slack about users and
channels; without it, nothing can be checked, and notes show in direct messages only.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from typing import Any

from cachetools import TTLCache
from slack_sdk import WebClient

from service.auth.callers import RANK, Caller
from service.settings import Settings

log = logging.getLogger(__name__)
DIRECT_MESSAGE = "D"  # the first letter of a direct message's channel id
GUEST = ("is_restricted", "is_ultra_restricted", "is_stranger")  # users.info: guests, strangers


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    team: str  # the workspace the request came from
    own_team: str | None = None  # the user's own workspace, when the payload or Slack says it


def team_allowed(settings: Settings, team: str) -> bool:
    # With no list configured, the signing secret alone ties requests to our one Slack app.
    return not settings.slack_allowed_teams or team in settings.slack_allowed_teams


def web_client(settings: Settings) -> WebClient:
    return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10)


class Workspaces:
    """What Slack tells us of users and of the installing workspace, asked once per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._installer: str | None = settings.slack_team_id or None
        self._lock = threading.Lock()
        # users.info's answers, for a minute: a command and the clicks on its answer ask once
        self._profiles: TTLCache[str, dict[str, Any] | None] = TTLCache(maxsize=1024, ttl=60)

    def caller(self, user: SlackUser) -> Caller:
        """The user's role: as mapped in the settings, else the default role for a member of a
        home workspace, else `viewer`."""
        roles = self.settings.slack_user_roles
        mapped = roles.get(f"{user.team}:{user.id}") or roles.get(user.id)
        role = mapped or (self.settings.slack_default_role if self._at_home(user) else "viewer")
        return Caller(id=f"slack:{user.team}:{user.id}", name=user.name or user.id,
                      role=role if role in RANK else "viewer")

    def language(self, user: SlackUser) -> str:
        """The user's language in Slack ("en" for an English locale), else Japanese."""
        profile = self._profile(user.id) or {}
        return "en" if str(profile.get("locale", "")).lower().startswith("en") else "ja"

    def channel_allows_notes(self, channel: str) -> bool:
        """False for a channel shared with another workspace, or one that cannot be checked;
        without a bot token nothing can be, and only a direct message shows notes."""
        if not self.settings.slack_bot_token:
            return channel.startswith(DIRECT_MESSAGE)
        try:
            info = web_client(self.settings).conversations_info(channel=channel)["channel"]
        except Exception:
            log.warning("conversations.info failed; notes left out", extra={"channel": channel})
            return False
        return not any(info.get(flag) for flag in ("is_ext_shared", "is_pending_ext_shared", "is_shared"))

    def _at_home(self, user: SlackUser) -> bool:
        """A member (no guest) of an allowed workspace, or of the one that installed the app."""
        profile = self._profile(user.id)
        if profile is None:
            own = user.own_team or user.team
        else:
            if any(profile.get(flag) for flag in GUEST):
                return False
            own = profile.get("team_id") or user.own_team or user.team
        home = set(self.settings.slack_allowed_teams) | {self._installing_team(user.team)}
        return own in home

    def _profile(self, user: str) -> dict[str, Any] | None:
        """users.info's answer (with the locale), or None without a bot token."""
        if not self.settings.slack_bot_token:
            return None
        with self._lock:
            if user in self._profiles:
                return self._profiles[user]
        try:
            profile = dict(web_client(self.settings).users_info(user=user, include_locale=True)["user"])
        except Exception:
            log.warning("users.info failed; the user counts as another workspace's")
            return {"is_stranger": True}
        with self._lock:
            self._profiles[user] = profile
        return profile

    def _installing_team(self, asked_from: str) -> str:
        """The workspace that installed the app: the setting, else auth.test with the bot token,
        else (nothing to ask) the workspace the request came from."""
        with self._lock:
            if self._installer is None and self.settings.slack_bot_token:
                try:
                    self._installer = str(web_client(self.settings).auth_test()["team_id"])
                except Exception:
                    log.warning("auth.test failed; the installing workspace is unknown")
            return self._installer or asked_from


def shown_as(caller: Caller, notes: bool) -> Caller:
    """Who the answer is built for: a viewer when notes may not show, at most a pm otherwise.

    Slack shows at most non-confidential notes, whatever the role, and none in public answers or
    shared channels: those are left out before the blocks are built.
    """
    role = "viewer" if not notes else ("pm" if caller.at_least("pm") else caller.role)
    return replace(caller, role=role)


def response_url_allowed(settings: Settings, url: str) -> bool:
    """Answers go back only to Slack's own hooks (`slack_response_url_prefixes`)."""
    return any(url.startswith(prefix) for prefix in settings.slack_response_url_prefixes)
