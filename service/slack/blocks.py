"""Block Kit messages for the Slack bot: pure functions from plain values to Slack JSON, in the
asker's language (Japanese, or English). What is answered before we know who asks (the help, the
acknowledgement, a refusal) says it in both."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Message = dict[str, Any]

PAGE = 5
VERDICTS = {"propose": "proposed", "adopted": "adopted", "not_a_fit": "not_a_fit"}
BUTTON_STYLES = (("propose", None), ("adopted", "primary"), ("not_a_fit", "danger"))
NOTE_CHARS = 280
TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "propose": "提案する", "adopted": "採用", "not_a_fit": "見送り", "more": "さらに表示",
        "proposed": "📨 提案済み", "adopted_label": "✅ 採用", "not_a_fit_label": "🚫 見送り",
        "active": "提携中", "negotiating": "交渉中", "prospect": "候補", "paused": "休止中",
        "ended": "終了", "meeting": "打ち合わせ", "proposal": "提案", "contract": "契約",
        "issue": "障害・課題", "review": "振り返り", "platforms": "対応プラットフォーム",
        "candidates": "*「{query}」の候補* ({first}–{last})",
        "none": "「{query}」: これ以上の候補はありません。",
        "recorded": "{verdict}: *{name}* を記録しました。",
        "text": "「{query}」の提携先候補: {names}", "no_candidates": "候補なし",
    },
    "en": {
        "propose": "Propose", "adopted": "Adopted", "not_a_fit": "Not a fit", "more": "More",
        "proposed": "📨 Proposed", "adopted_label": "✅ Adopted", "not_a_fit_label": "🚫 Not a fit",
        "active": "active", "negotiating": "negotiating", "prospect": "prospect",
        "paused": "paused", "ended": "ended", "meeting": "meeting", "proposal": "proposal",
        "contract": "contract", "issue": "issue", "review": "review", "platforms": "Platforms",
        "candidates": "*Candidates for “{query}”* ({first}–{last})",
        "none": "“{query}”: no (more) candidates found.",
        "recorded": "{verdict}: *{name}* recorded.",
        "text": "Partner candidates for “{query}”: {names}", "no_candidates": "no candidates",
    },
}
VERDICT_KEYS = {"proposed": "proposed", "adopted": "adopted_label", "not_a_fit": "not_a_fit_label"}


def say(language: str, key: str, **values: object) -> str:
    """The text `key` in the language (Japanese unless it is English), filled with `values`."""
    texts = TEXTS.get(language, TEXTS["ja"])
    return texts.get(key, key).format(**values) if values else texts.get(key, key)

HELP = (
    "*/partners <依頼内容>* — クライアントの要望から提携先の候補を5件探します(本人にだけ表示)。\n"
    "*/partners public <依頼内容>* — チャンネル全員に表示します(交渉メモは出しません)。\n"
    "*/partners client:クライアント名 <依頼内容>* — 紹介先のクライアント名を記録します"
    "(空白を含む名前は \"…\" で囲む)。\n"
    "例: `/partners 定期購入を入れたい`\n\n"
    "*/partners <request>* — finds the top 5 partner candidates for a client's request "
    "(only you see the answer).\n"
    "*/partners public <request>* — posts the answer to the channel, without negotiation notes.\n"
    "*/partners client:\"Client name\" <request>* — records the client the introduction is for.\n"
    "Example: `/partners the client wants konbini payment`\n\n"
    "Buttons: *Propose*, *Adopted*, *Not a fit* record your feedback; *More* shows the next five. "
    "Notes never appear in shared (Slack Connect) channels."
)


@dataclass(frozen=True)
class NoteView:
    date: str
    kind: str
    body: str


@dataclass(frozen=True)
class CandidateView:
    partner_id: str
    rank: int
    name: str
    reason: str
    platforms: list[str]
    status: str
    url: str | None
    note: NoteView | None = None
    verdict: str | None = None
    verdict_by: str | None = None


@dataclass(frozen=True)
class ButtonRef:
    """What a button carries back to us: the recorded request and how its answer was shown."""

    request_id: str
    partner_id: str = ""
    offset: int = 0
    public: bool = False
    notes: bool = True

    def encode(self) -> str:
        return json.dumps({"r": self.request_id, "p": self.partner_id, "o": self.offset,
                           "pub": int(self.public), "n": int(self.notes)}, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> ButtonRef:
        data = json.loads(value)
        return cls(request_id=str(data["r"]), partner_id=str(data.get("p", "")),
                   offset=int(data.get("o", 0)), public=bool(data.get("pub")),
                   notes=bool(data.get("n")) and not data.get("pub"))


@dataclass(frozen=True)
class Answer:
    request_id: str
    query: str
    candidates: list[CandidateView]
    offset: int = 0
    public: bool = False
    notes: bool = True
    has_more: bool = False
    language: str = "ja"


def escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def help_message() -> Message:
    return {"response_type": "ephemeral", "text": HELP,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": HELP}}]}


def notice(text: str) -> Message:
    """A short private message: acknowledgements, refusals, confirmations, errors."""
    return {"response_type": "ephemeral", "text": text}


def acknowledgement(query: str, public: bool) -> Message:
    where = "チャンネルに投稿します / will post to the channel" if public else "only you will see it"
    return notice(f"🔎 「{escape(_clip(query, 200))}」の候補を探しています… "
                  f"Searching partners ({where}).")


def answer_message(answer: Answer) -> Message:
    blocks: list[dict[str, Any]] = [_header(answer)]
    for candidate in answer.candidates:
        blocks += _candidate_blocks(candidate, answer)
    if answer.has_more:
        ref = ButtonRef(answer.request_id, offset=answer.offset + PAGE, public=answer.public,
                        notes=answer.notes)
        blocks.append({"type": "actions", "block_id": "more", "elements": [
            _button("more", say(answer.language, "more"), ref.encode(), None)]})
    names = ", ".join(c.name for c in answer.candidates) or say(answer.language, "no_candidates")
    return {"response_type": "in_channel" if answer.public else "ephemeral",
            "text": say(answer.language, "text", query=_clip(answer.query, 200), names=names),
            "blocks": blocks}


def confirmation(verdict: str, partner_name: str, language: str = "ja") -> str:
    label = say(language, VERDICT_KEYS[verdict])
    return say(language, "recorded", verdict=label, name=escape(partner_name))


def _header(answer: Answer) -> dict[str, Any]:
    query = escape(_clip(answer.query, 300))
    if not answer.candidates:
        text = say(answer.language, "none", query=query)
    else:
        first, last = answer.candidates[0].rank, answer.candidates[-1].rank
        text = say(answer.language, "candidates", query=query, first=first, last=last)
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _candidate_blocks(candidate: CandidateView, answer: Answer) -> list[dict[str, Any]]:
    name = escape(candidate.name)
    title = f"<{candidate.url}|{name}>" if _linkable(candidate.url) else name
    language = answer.language
    status = say(language, candidate.status)
    platforms = ", ".join(escape(p) for p in candidate.platforms) or "—"
    text = f"*{candidate.rank}. {title}*  `{status}`\n{escape(_clip(candidate.reason, 500))}"
    platforms_line = f"\n_{say(language, 'platforms')}:_ {platforms}"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text + platforms_line}}
    ]
    if candidate.note and answer.notes:
        note = candidate.note
        body = escape(_clip(note.body, NOTE_CHARS))
        blocks.append(_context(f"📝 {note.date} {say(language, note.kind)}: {body}"))
    if candidate.verdict:
        by = f" — {escape(candidate.verdict_by)}" if candidate.verdict_by else ""
        verdict = VERDICT_KEYS.get(candidate.verdict)
        blocks.append(_context((say(language, verdict) if verdict else candidate.verdict) + by))
    ref = ButtonRef(answer.request_id, candidate.partner_id, answer.offset, answer.public,
                    answer.notes).encode()
    blocks.append({"type": "actions", "block_id": f"c{candidate.rank}", "elements": [
        _button(action, say(language, action), ref, style) for action, style in BUTTON_STYLES]})
    blocks.append({"type": "divider"})
    return blocks


def _button(action_id: str, label: str, value: str, style: str | None) -> dict[str, Any]:
    button = {"type": "button", "action_id": action_id, "value": value,
              "text": {"type": "plain_text", "text": label}}
    return {**button, "style": style} if style else button


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _linkable(url: str | None) -> bool:
    return (url is not None and url.startswith(("https://", "http://"))
            and not any(c in url for c in "|<> "))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
