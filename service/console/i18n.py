"""The console's words in Japanese (the default) and English, and which one a request gets."""

from __future__ import annotations

from fastapi import Request

LANGUAGES = ("ja", "en")
LANG_COOKIE = "pm_lang"

MESSAGES: dict[str, dict[str, str]] = {
    "ja": {
        "app": "パートナー提案コンソール", "search": "検索", "partners": "パートナー",
        "introductions": "紹介", "kpis": "KPI", "sign_in": "ログイン", "sign_out": "ログアウト",
        "api_key": "APIキー", "bad_key": "APIキーが正しくありません。",
        "ask": "お客様のご要望は？", "ask_hint": "例: 定期購入を入れたい、コンビニ決済に対応したい",
        "find": "探す", "filters": "絞り込み", "status": "ステータス", "platform": "プラットフォーム",
        "language": "言語", "kind": "種類", "category": "カテゴリ", "any": "指定なし",
        "candidates": "候補", "no_candidates": "該当するパートナーが見つかりませんでした。",
        "why": "理由", "rating": "評価", "pricing": "料金", "notes": "交渉メモ",
        "propose": "提案する", "adopted": "採用", "not_a_fit": "見送り",
        "recent": "最近のご要望", "recorded": "記録しました", "back": "検索に戻る",
        "verdict_proposed": "提案", "verdict_adopted": "採用", "verdict_not_a_fit": "見送り",
        "profile": "概要", "categories": "カテゴリ", "plans": "料金プラン", "contacts": "担当者",
        "terms": "条件", "revenue_share": "レベニューシェア条件", "confidential": "社外秘",
        "add_note": "交渉メモを追加", "body": "内容", "note_kind": "種別", "save": "保存",
        "client": "お客様", "request": "ご要望", "revenue": "売上", "monthly": "月額",
        "one_off": "一括", "satisfaction": "満足度", "move_to": "次のステータス",
        "keep": "変更しない", "owed": "支払額（レベニューシェア）",
        "st_proposed": "提案中", "st_adopted": "採用", "st_live": "稼働中", "st_churned": "解約",
        "st_rejected": "見送り", "st_active": "提携中", "st_negotiating": "交渉中",
        "st_prospect": "候補", "st_paused": "休止中", "st_ended": "終了",
        "period": "期間", "from": "開始日", "to": "終了日", "show": "表示",
        "k_partner_sourced_revenue": "パートナー経由の売上", "k_revenue_share_owed": "支払額",
        "k_introductions": "紹介数", "k_adoptions": "採用数", "k_adoption_rate": "採用率",
        "k_active_partners": "稼働パートナー数", "k_initiative_success_rate": "施策の成功率",
        "k_churn_rate": "解約率", "k_csat": "満足度",
        "per_partner": "パートナー別", "revenue_by_partner": "パートナー別の売上",
        "forbidden": "この画面を開く権限がありません。", "none": "なし", "date": "日付",
        "outcome": "結果", "author": "記入者", "email": "メール", "role": "役割",
        "html_report": "HTMLレポート", "add_contact": "担当者を追加",
        "import": "CSV取り込み", "dry_run": "取り込み前の確認", "import_now": "この内容で取り込む",
        "problems": "問題のある行", "i_created": "新規", "i_updated": "更新", "i_skipped": "変更なし",
        "i_rejected": "取り込めない行", "i_notes_created": "交渉メモ（新規）",
        "i_notes_updated": "交渉メモ（更新）",
        "skip": "本文へ移動", "signed_in_as": "ログイン中",
        "name": "名前", "pages": "ページ", "prev": "前へ", "next": "次へ",
        "new_partner": "パートナーを追加", "description": "説明", "gaps": "未対応のご要望",
        "gaps_hint": "どのパートナーも対応できなかったご要望です（採用候補のリスト）。",
        "gaps_vague": "ご要望が漠然としたもの",
        "gaps_vague_hint": ("特定の機能を指していないご要望です（「売上を伸ばしたい」など）。"
                            "パートナー募集の対象ではなく、ヒアリングで具体化してください。"),
        "requests": "件", "add_prospect": "候補パートナーとして追加", "admin": "管理",
        "api_keys": "APIキー", "prefix": "先頭", "revoked": "無効化済み", "revoke": "無効にする",
        "create_key": "キーを発行", "audit": "監査ログ", "actor": "操作者", "entity": "対象",
        "action": "操作", "changes": "変更内容", "key_created": "APIキーを発行しました",
        "key_once": "このキーは今回しか表示されません。すぐに保管してください。",
        "similar": "似ているパートナー", "edit": "編集", "delete": "削除", "delete_now": "削除する",
        "cancel": "キャンセル", "delete_notes_q": "この交渉メモを削除しますか？",
        "delete_contacts_q": "この担当者を削除しますか？",
        "sort_by": "並び順", "updated": "更新日", "sort_name": "名前（A→Z）", "sort_-name": "名前（Z→A）",
        "sort_status": "ステータス（候補→終了）", "sort_-status": "ステータス（終了→候補）",
        "sort_rating": "評価の低い順", "sort_-rating": "評価の高い順",
        "sort_updated": "更新の古い順", "sort_-updated": "更新の新しい順",
        "err_400": "入力内容を確認してください", "err_400_hint": "保存できない値が含まれています。",
        "err_403": "このフォームは送信できませんでした",
        "err_403_hint": ("ページを開き直してから、もう一度送信してください"
                         "（確認用のトークンが古いか、ありません）。"),
        "err_404": "見つかりません", "err_404_hint": "削除されたか、URLが正しくない可能性があります。",
        "err_409": "この操作はできません",
        "err_409_hint": ("いまの状態からはこの変更ができません"
                         "（紹介のステータスは決まった順にしか進められません）。"),
        "err_422": "入力内容を確認してください",
        "err_422_hint": "次の項目を直して、もう一度送信してください。",
        "err_other": "エラーが発生しました", "err_other_hint": "時間をおいて、もう一度お試しください。",
        "your_input": "入力した内容", "send_again": "もう一度送信", "go_back": "前の画面に戻る",
        "revenue_share_terms": "レベニューシェア条件", "description_ja": "説明（日本語）",
        "description_en": "説明（英語）", "revenue_period": "計上方法", "page": "ページ",
    },
    "en": {
        "app": "Partner console", "search": "Search", "partners": "Partners",
        "introductions": "Introductions", "kpis": "KPIs", "sign_in": "Sign in",
        "sign_out": "Sign out", "api_key": "API key", "bad_key": "That API key is not valid.",
        "ask": "What does the client need?", "ask_hint": "e.g. subscriptions, konbini payment",
        "find": "Find", "filters": "Filters", "status": "Status", "platform": "Platform",
        "language": "Language", "kind": "Kind", "category": "Category", "any": "Any",
        "candidates": "Candidates", "no_candidates": "No partner matched.",
        "why": "Why", "rating": "Rating", "pricing": "Pricing", "notes": "Negotiation notes",
        "propose": "Propose", "adopted": "Adopted", "not_a_fit": "Not a fit",
        "recent": "Recent requests", "recorded": "Recorded", "back": "Back to search",
        "verdict_proposed": "Proposed", "verdict_adopted": "Adopted",
        "verdict_not_a_fit": "Not a fit",
        "profile": "Profile", "categories": "Categories", "plans": "Plans", "contacts": "Contacts",
        "terms": "Terms", "revenue_share": "Revenue-share terms", "confidential": "Confidential",
        "add_note": "Add a note", "body": "Note", "note_kind": "Kind", "save": "Save",
        "client": "Client", "request": "Request", "revenue": "Revenue", "monthly": "Monthly",
        "one_off": "One-off", "satisfaction": "Satisfaction", "move_to": "Move to",
        "keep": "Keep", "owed": "Revenue share owed",
        "st_proposed": "Proposed", "st_adopted": "Adopted", "st_live": "Live",
        "st_churned": "Churned", "st_rejected": "Not a fit", "st_active": "Active",
        "st_negotiating": "Negotiating", "st_prospect": "Prospect", "st_paused": "Paused",
        "st_ended": "Ended",
        "period": "Period", "from": "From", "to": "To", "show": "Show",
        "k_partner_sourced_revenue": "Partner-sourced revenue",
        "k_revenue_share_owed": "Revenue share owed", "k_introductions": "Introductions",
        "k_adoptions": "Adoptions", "k_adoption_rate": "Adoption rate",
        "k_active_partners": "Active partners", "k_initiative_success_rate": "Initiative success",
        "k_churn_rate": "Churn rate", "k_csat": "Satisfaction",
        "per_partner": "Per partner", "revenue_by_partner": "Revenue by partner",
        "forbidden": "Your role cannot open this page.", "none": "None", "date": "Date",
        "outcome": "Outcome", "author": "Author", "email": "Email", "role": "Role",
        "html_report": "HTML report", "add_contact": "Add contact",
        "import": "CSV import", "dry_run": "Dry run", "import_now": "Import these rows",
        "problems": "Problems", "i_created": "Created", "i_updated": "Updated",
        "i_skipped": "Unchanged", "i_rejected": "Rejected", "i_notes_created": "Notes created",
        "i_notes_updated": "Notes updated",
        "skip": "Skip to content", "signed_in_as": "Signed in as",
        "name": "Name", "pages": "Pages", "prev": "Previous", "next": "Next",
        "new_partner": "Add a partner", "description": "Description", "gaps": "Coverage gaps",
        "gaps_hint": "What clients asked that no partner covers: the recruiting list.",
        "gaps_vague": "Vague requests",
        "gaps_vague_hint": ("Requests that name no feature (\"grow sales\"): not a recruiting need; "
                            "ask the client what they mean."),
        "requests": "requests", "add_prospect": "Add a prospect partner", "admin": "Admin",
        "api_keys": "API keys", "prefix": "Prefix", "revoked": "Revoked", "revoke": "Revoke",
        "create_key": "Create key", "audit": "Audit log", "actor": "Actor", "entity": "Entity",
        "action": "Action", "changes": "Changes", "key_created": "API key created",
        "key_once": "The key is shown this once: store it now.",
        "similar": "Similar partners", "edit": "Edit", "delete": "Delete", "delete_now": "Delete",
        "cancel": "Cancel", "delete_notes_q": "Delete this note?",
        "delete_contacts_q": "Delete this contact?",
        "sort_by": "Sort by", "updated": "Updated", "sort_name": "Name (A→Z)", "sort_-name": "Name (Z→A)",
        "sort_status": "Status (prospect→ended)", "sort_-status": "Status (ended→prospect)",
        "sort_rating": "Lowest rated", "sort_-rating": "Highest rated",
        "sort_updated": "Least recently updated", "sort_-updated": "Recently updated",
        "err_400": "Please check what you entered", "err_400_hint": "A value cannot be stored.",
        "err_403": "This form could not be sent",
        "err_403_hint": "Open the page again, then send it again (its check token is old or missing).",
        "err_404": "Not found", "err_404_hint": "It was deleted, or the address is wrong.",
        "err_409": "That cannot be done now",
        "err_409_hint": ("Not from the current state (an introduction moves through its statuses "
                         "in order only)."),
        "err_422": "Please check what you entered", "err_422_hint": "Correct these fields and send again.",
        "err_other": "Something went wrong", "err_other_hint": "Please try again in a moment.",
        "your_input": "What you entered", "send_again": "Send again", "go_back": "Back to the previous page",
        "revenue_share_terms": "Revenue-share terms", "description_ja": "Description (Japanese)",
        "description_en": "Description (English)", "revenue_period": "Period", "page": "Page",
    },
}


def language_of(request: Request) -> str:
    """The language chosen with the switch, else the first of ours the browser accepts, else ja."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "ja"


def translator(language: str):  # type: ignore[no-untyped-def]
    words = MESSAGES[language]
    return lambda key: words.get(key, key)
