"""The service tests' small catalog: eight partners (a confidential canary among their notes and
terms), a key for every role, and the app serving them in process."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import transaction
from catalog.generation import bump_generation
from catalog.importers.upsert import apply_import
from catalog.tables import Partner
from service.auth.callers import ROLES
from service.auth.keys import create_key

# Secrets only partner managers and admins may read, each where the rule is easiest to break:
CANARY = "CANARY-7f3c1e-confidential-term"  # the body of a confidential note
TERMS_CANARY = "CANARY-terms-4b9d-public-note"  # the terms of a note that is not confidential
SHARE_CANARY = "SECRET-REVSHARE-20pct"  # a partner's revenue-share terms
SHARE_FIELDS = {"percent": 20.0}  # the same terms, structured: amounts owed come from these

PARTNERS: list[dict[str, Any]] = [
    {"external_id": "t-sub", "name": "Teiki Subscriptions", "kind": "app", "status": "active",
     "description_en": "Subscriptions and recurring orders: customers subscribe and get "
                       "automatic deliveries.",
     "description_ja": "定期購入・定期便アプリ。毎月自動でお届けします。",
     "capabilities": ["subscriptions", "recurring-orders"], "categories": ["subscriptions"],
     "platforms": ["Shopify", "Shopify Plus"], "revenue_share_terms": SHARE_CANARY,
     "notes": [
         {"external_id": "t-sub-n1", "date": dt.date(2026, 5, 1), "kind": "meeting",
          "body": "Onboarding took two weeks; Japanese support is quick.", "outcome": "positive",
          "terms": f"{TERMS_CANARY}: 20% of fees for 12 months", "confidential": False},
         {"external_id": "t-sub-n2", "date": dt.date(2026, 6, 1), "kind": "contract",
          "body": f"Agreed {CANARY} for the first year.", "outcome": "positive",
          "terms": "rev share 20%", "confidential": True},
     ]},
    {"external_id": "t-konbini", "name": "Konbini Checkout", "kind": "app", "status": "active",
     "description_en": "Convenience store payment and deferred payment (pay later) for Japan.",
     "description_ja": "コンビニ決済と後払い決済に対応。",
     "capabilities": ["konbini-payment", "deferred-payment"], "categories": ["payments"],
     "platforms": ["Shopify"]},
    {"external_id": "t-reviews", "name": "Voice Reviews", "kind": "app", "status": "negotiating",
     "description_en": "Product reviews with photos and star ratings.",
     "description_ja": "写真付きの商品レビューを集めて表示します。",
     "capabilities": ["product-reviews"], "categories": ["reviews"], "platforms": ["Shopify"]},
    {"external_id": "t-translate", "name": "Lingua Store", "kind": "app", "status": "prospect",
     "description_en": "Translate the storefront into many languages and switch currency.",
     "description_ja": "ストアの多言語化と通貨切り替え。",
     "capabilities": ["translation", "multi-currency"], "categories": ["translation"],
     "platforms": ["Shopify", "headless"]},
    {"external_id": "t-delivery", "name": "Otodoke Date", "kind": "app", "status": "active",
     "description_en": "Let customers choose a delivery date and time slot at checkout.",
     "description_ja": "配送日時指定をカートで選べます。",
     "capabilities": ["delivery-date"], "categories": ["delivery"], "platforms": ["Shopify"]},
    {"external_id": "t-loyalty", "name": "Point Club", "kind": "app", "status": "paused",
     "description_en": "Loyalty points, member tiers and rewards.",
     "description_ja": "ポイントと会員ランクのロイヤルティプログラム。",
     "capabilities": ["loyalty-points"], "categories": ["loyalty"], "platforms": ["Shopify POS"]},
    {"external_id": "t-erp", "name": "Kikan Connect", "kind": "integration", "status": "active",
     "description_en": "Sync orders and inventory with the ERP and warehouse (WMS).",
     "description_ja": "基幹システム・倉庫管理システムと受注・在庫を連携。",
     "capabilities": ["erp-integration", "inventory-sync"], "categories": ["erp"],
     "platforms": ["Shopify Plus", "NetSuite"]},
    {"external_id": "t-line", "name": "Line Bridge", "kind": "app", "status": "active",
     "description_en": "Send order notifications and campaigns through LINE official accounts.",
     "description_ja": "LINE公式アカウントで注文通知や配信ができます。",
     "capabilities": ["line-messaging"], "categories": ["messaging"], "platforms": ["Shopify", "LINE"]},
]


@dataclass
class Running:
    app: FastAPI
    client: TestClient
    keys: dict[str, str]
    sessions: sessionmaker[Session]
    ids: dict[str, str]

    def headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"} if role else {}


def seed(sessions: sessionmaker[Session]) -> tuple[dict[str, str], dict[str, str]]:
    keys = {}
    with transaction(sessions) as session:
        apply_import(session, "test", [dict(p) for p in PARTNERS])
        session.scalars(select(Partner).where(Partner.external_id == "t-sub")).one().revenue_share = (
            SHARE_FIELDS)  # what SHARE_CANARY says, as fields
        bump_generation(session)
        for role in ROLES:
            keys[role] = create_key(session, f"test-{role}", role)[1]
    with sessions() as session:
        ids = {p.external_id: p.id for p in session.scalars(select(Partner))}
    return keys, ids
