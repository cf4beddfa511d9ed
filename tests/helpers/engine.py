"""Small hand-made data for the matching engine's tests: a glossary, ten listings, an embedder."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from models.documents import Document

GLOSSARY_YAML = """
entries:
  - id: subscriptions
    ja: [定期購入, 定期便, サブスクリプション, サブスク]
    en: [subscription, subscriptions, recurring order, recurring orders]
    label_ja: 定期購入
  - id: gift-cards
    ja: [ギフトカード, ギフト券]
    en: [gift card, gift cards, store credit]
    label_ja: ギフトカード
  - id: gifts
    ja: [ギフト, 贈り物]
    en: [gift wrap, gift message]
    label_ja: ギフト
  - id: translation
    ja: [多言語, 翻訳]
    en: [translation, multilingual, translate]
    label_ja: 多言語化
  - id: preorders
    ja: [予約注文, 予約販売]
    en: [pre-order, preorder]
    label_ja: 予約注文
  - id: reviews
    ja: [レビュー, 口コミ]
    en: [product review, product reviews]
    label_ja: レビュー
"""


def listing(doc_id: str, title: str, description: str, *benefits: str, **facets: str) -> Document:
    return Document(
        id=doc_id, title=title,
        sections=(("description", description), *(("benefit", b) for b in benefits)),
        facets={key: frozenset([value]) for key, value in facets.items()},
        priors={"status": 0.5},
    )


CORPUS = [
    listing("sub", "Recurring Orders & Subscriptions",
            "Sell subscriptions and recurring orders with automatic monthly billing.",
            "Subscribe and save. Customers get products delivered every month.",
            platform="shopify"),
    listing("gift", "Gift Card Studio", "Sell digital gift cards and manage store credit.",
            "Beautiful gift card designs.", platform="shopify"),
    listing("wrap", "Gift Wrap Options", "Offer gift wrap and a gift message at checkout.",
            platform="shopify"),
    listing("lang", "Langify Translate", "Translate your store into multiple languages.",
            "Multilingual storefront with automatic translation.", platform="shopify"),
    listing("pre", "Pre-Order Manager", "Take pre-orders for out of stock and upcoming products.",
            platform="shopify"),
    listing("rev", "Product Reviews Plus", "Collect product reviews with photos.",
            "Review request emails after delivery.", platform="bigcommerce"),
    listing("seo", "SEO Booster", "Improve search engine rankings with meta tags.",
            platform="shopify"),
    listing("chat", "Live Chat Desk", "Chat with visitors in real time and answer questions.",
            platform="shopify"),
    listing("ship", "Shipping Label Printer", "Print shipping labels in bulk and add tracking.",
            platform="shopify"),
    listing("pop", "Email Popup", "Collect emails with an exit-intent popup and discount codes.",
            platform="shopify"),
]


class HashEmbedder:
    """A deterministic bag-of-words embedder: each stemmed word hashes to a dimension.

    Good enough to make "subscription" queries find subscription listings, with no model."""

    def __init__(self, name: str = "hash-64", dimension: int = 64):
        self.name, self.dimension = name, dimension
        self.calls = 0

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        from models.text import tokenize

        self.calls += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text):
                digest = hashlib.md5(token.encode()).digest()
                out[row, digest[0] % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)
