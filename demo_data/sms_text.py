"""SMS bodies and segment counting (GSM-7 with extension characters, else UCS-2)."""

from __future__ import annotations

import math

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")

# {link} is replaced by the mailing's short link
BODIES = (
    # GSM-7 with extension characters ({ } € [ ] |): 154 characters, 161 septets: 2 segments
    "SHOP: Autumn sale -20% on everything {today only}! Coats from 45€, boots from 39€. "
    "Use code [AUTUMN20] at checkout: {link} | STOP to opt out",
    # Cyrillic: UCS-2
    "Магазин: скидка 20% на всё до воскресенья! Подробнее: {link} Отписка: STOP",
    # emoji: UCS-2, the emoji is two UTF-16 units
    "🎃 Halloween week: up to -30% on candy and costumes! {link} Reply STOP to unsubscribe",
    # long plain GSM-7: two segments
    "Dear customer, your loyalty points are about to expire. You have until Sunday to spend "
    "them on anything in our stores or online. Double points on fresh produce this week, and "
    "free delivery for orders over 3000 RUB. Details: {link} Reply STOP to opt out",
    # short plain GSM-7: one segment
    "Wine festival this weekend: tastings in every store, -15% on all wines. {link}",
)


def segments(text: str) -> int:
    """Billed segments: GSM-7 160 / 153 per part, UCS-2 70 / 67 (UTF-16 code units)."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, multi = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if units <= single else math.ceil(units / multi)
