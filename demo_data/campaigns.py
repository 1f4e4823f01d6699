"""The marketing plan: campaigns and their mailings over the period, and their exports.

The platform exports campaigns and mailings every few days; each export is a snapshot of every
campaign / mailing known then (the latest ``exported_at`` wins), so statuses move from
``scheduled`` to ``sending``/``in_progress`` to ``sent``/``completed`` across the exports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from . import timefmt as tf
from .period import DAY, HOUR, MINUTE, Period
from .rng import stream
from .sink import Sink
from .sms_text import BODIES, segments
from .strings import sarr
from .world import CATEGORIES, World

SITE = "https://shop.example.com"
SHORT = "https://shp.to"

THEMES = (
    ("Autumn Sale", "promo", "Seasonal"),
    ("Loyalty Points x2", "loyalty", "Dairy"),
    ("Halloween Week", "promo", "Candy"),
    ("New Coffee Collection", "promo", "Coffee"),
    ("Wine Festival", "events", "Wine"),
    ("Healthy Start", "promo", "Healthy Food"),
    ("Pet Week", "promo", "Pet Food"),
    ("Home Comfort", "promo", "Home Textiles"),
    ("Black Friday Preview", "promo", "Small Appliances"),
    ("Beauty Week", "promo", "Cosmetics"),
    ("Baby Days", "promo", "Baby Food"),
    ("Winter Warm-up", "promo", "Tea"),
    ("Garden Clearance", "promo", "Garden"),
    ("Sports Days", "promo", "Sports & Outdoor"),
    ("Toy Fair", "promo", "Toys"),
    ("Kitchen Week", "promo", "Kitchenware"),
)
PATTERNS = (
    ("email", "sms"),
    ("email", "push", "sms"),
    ("email",),
    ("sms", "email", "push", "email"),
    ("push", "email"),
    ("email", "sms", "push"),
    ("sms",),
    ("email", "email", "sms"),
)
ASM_GROUPS = {"promo": 101, "news": 102, "loyalty": 103, "events": 104, "reminders": 105}
SEND_HOURS_MSK = (9, 10, 11, 12, 15, 18, 19)


@dataclass
class Mailing:
    idx: int
    mailing_id: str
    campaign_id: str | None
    name: str
    channel: str
    category: str
    final_status: str  # sent | scheduled | draft | cancelled
    created_t: int
    planned_t: int
    send_seconds: int
    window_days: int | None
    control_share: float
    variants: tuple[str, ...]
    audience_share: float
    promo_category: int
    providers: tuple[tuple[str, float], ...]
    open_factor: float
    click_factor: float
    body: str | None = None
    sms_segments: int | None = None
    links: tuple[str, ...] = ()
    cancelled_t: int | None = None

    @property
    def sent(self) -> bool:
        return self.final_status == "sent"

    @property
    def sent_t(self) -> int | None:
        return self.planned_t if self.sent else None

    @property
    def window(self) -> int:
        return self.window_days or 7

    @property
    def asm_group_id(self) -> int:
        return ASM_GROUPS.get(self.category, 101)


@dataclass
class Campaign:
    idx: int
    campaign_id: str
    name: str
    type: str
    created_t: int
    mailings: list[Mailing] = field(default_factory=list)


@dataclass
class Plan:
    campaigns: list[Campaign]
    mailings: list[Mailing]  # every mailing, in planned send order

    @property
    def sent_mailings(self) -> list[Mailing]:
        return [m for m in self.mailings if m.sent]


def n_campaigns(scale: int) -> int:
    return 8 + int(math.floor(math.log2(max(scale, 1)) / 1.5))


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-").replace("--", "-")


def build_plan(seed: int, world: World, period: Period) -> Plan:
    rng = stream(seed, "plan")
    scale = world.scale
    days = period.days
    n = n_campaigns(scale)
    last_send_day = max(1.0, days - 2.5)
    starts = np.linspace(0.6, max(0.8, days - 7.0), n) + rng.uniform(-0.4, 0.4, n)
    send_seconds = int(30 * MINUTE + 12 * MINUTE * math.sqrt(scale))

    campaigns: list[Campaign] = []
    mailings: list[Mailing] = []
    counter = {"email": 0, "sms": 0, "push": 0}

    def new_mailing(
        camp: Campaign | None,
        channel: str,
        t: float,
        name: str,
        cat: str,
        promo: int,
        status: str = "sent",
    ) -> Mailing:
        k = len(mailings)
        m_rng = stream(seed, "plan", "mailing", k)
        counter[channel] += 1 if status == "sent" else 0
        hour = SEND_HOURS_MSK[int(m_rng.integers(0, len(SEND_HOURS_MSK)))]
        day0 = period.start_t + int(t) * DAY
        planned = day0 + (hour - 3) * HOUR + int(m_rng.integers(0, 4)) * 15 * MINUTE
        window = 7
        if k % 5 == 1:
            window = 3
        elif k % 7 == 3:
            window = 14
        control = float(m_rng.choice([0.1, 0.1, 0.1, 0.05, 0.15]))
        variants: tuple[str, ...] = ("A", "B") if k % 3 == 0 else ()
        providers: tuple[tuple[str, float], ...] = (
            ("sendgrid", 1.0)
            if channel == "email"
            else ("twilio", 1.0)
            if channel == "sms"
            else ("push", 1.0),
        )
        if status == "sent" and channel == "email" and counter["email"] == 3:
            providers = (("mailgun", 1.0),)
        if status == "sent" and channel == "sms" and counter["sms"] == 2:
            providers = (("twilio", 0.7), ("smsc", 0.3))
        mailing_id = f"mlg-{1001 + k}"
        m = Mailing(
            idx=k,
            mailing_id=mailing_id,
            campaign_id=camp.campaign_id if camp else None,
            name=name,
            channel=channel,
            category=cat,
            final_status=status,
            created_t=int(planned - m_rng.uniform(1, 5) * DAY),
            planned_t=int(planned),
            send_seconds=send_seconds,
            window_days=window,
            control_share=control,
            variants=variants,
            audience_share=float(m_rng.uniform(0.5, 0.95)),
            promo_category=promo,
            providers=providers,
            open_factor=float(m_rng.uniform(0.8, 1.3)),
            click_factor=float(m_rng.uniform(0.8, 1.3)),
        )
        if camp is not None:
            m.created_t = max(m.created_t, camp.created_t + HOUR)
        slug = _slug(camp.name if camp else name)
        cat_slug = _slug(CATEGORIES[promo])
        if channel == "email":
            links = [
                f"{SITE}/promo/{slug}",
                f"{SITE}/catalog/{cat_slug}",
                f"{SITE}/loyalty",
                f"{SITE}/app",
                f"{SITE}/stores",
                f"{SITE}/catalog/{cat_slug}?sort=price",
            ]
            m.links = tuple(links[: int(m_rng.integers(3, 7))])
        elif channel == "sms":
            m.links = (f"{SITE}/promo/{slug}",) + ((f"{SITE}/app",) if k % 2 else ())
            code = "".join(m_rng.choice(list("abcdefghjkmnpqrstuvwxyz23456789"), 6))
            body = BODIES[(counter["sms"] - 1) % len(BODIES)]
            m.body = body.replace("{link}", f"{SHORT}/{code}")
            m.sms_segments = segments(m.body)
        mailings.append(m)
        if camp is not None:
            camp.mailings.append(m)
        return m

    for c in range(n):
        theme, cat, promo_name = THEMES[c % len(THEMES)]
        if c >= len(THEMES):
            theme = f"{theme} {2 + c // len(THEMES)}"
        promo = CATEGORIES.index(promo_name)
        first_day = float(np.clip(starts[c], 0.5, last_send_day))
        camp = Campaign(
            idx=c,
            campaign_id=f"cmp-{101 + c}",
            name=f"{theme} 2026",
            type="interactive" if c == 1 else "messaging",
            created_t=int(period.start_t + first_day * DAY - rng.uniform(3, 10) * DAY),
        )
        campaigns.append(camp)
        t = first_day
        pattern = PATTERNS[c % len(PATTERNS)]
        for j, channel in enumerate(pattern):
            if j:
                t = min(t + float(rng.uniform(1.0, 2.6)), last_send_day)
            label = {"email": "e-mail", "sms": "SMS", "push": "push"}[channel]
            kind = "announcement" if j == 0 else "reminder"
            new_mailing(camp, channel, t, f"{camp.name}: {label} {kind}", cat, promo)
        if c == 2:  # a push that was planned, then cancelled before sending
            m = new_mailing(
                camp, "push", t, f"{camp.name}: push (cancelled)", cat, promo, status="cancelled"
            )
            m.cancelled_t = m.created_t + 20 * HOUR
        if c == n - 1:  # a follow-up planned after the period: still scheduled at the end
            m = new_mailing(
                camp, "sms", days + 2, f"{camp.name}: SMS last call", cat, promo, status="scheduled"
            )
            m.created_t = min(m.created_t, period.end_t - 2 * DAY)

    # a standalone newsletter: no campaign, no control group, default attribution window
    news = new_mailing(
        None,
        "email",
        float(np.clip(days / 2, 0.5, last_send_day)),
        "Weekly news digest",
        "news",
        CATEGORIES.index("Books & Magazines"),
    )
    news.control_share = 0.0
    news.window_days = None
    # one more mailing without a control group: the first push
    next(m for m in mailings if m.channel == "push" and m.sent).control_share = 0.0

    # a campaign still in draft, with a draft mailing
    draft = Campaign(
        idx=n,
        campaign_id=f"cmp-{101 + n}",
        name="Spring Preview 2027",
        type="messaging",
        created_t=int(period.start_t + (days - 3) * DAY + 7 * HOUR),
    )
    campaigns.append(draft)
    d = new_mailing(
        draft,
        "email",
        days - 2,
        "Spring Preview 2027: e-mail teaser",
        "promo",
        CATEGORIES.index("Garden"),
        status="draft",
    )
    d.created_t = draft.created_t + HOUR

    mailings.sort(key=lambda m: (m.planned_t, m.idx))
    return Plan(campaigns, mailings)


# ----------------------------------------------------------------------------- exports
def export_days(period: Period) -> list[int]:
    return sorted(set(range(0, period.days, 5)) | {period.days - 1})


def _campaign_status(c: Campaign, t: int) -> str:
    sent = [m for m in c.mailings if m.sent]
    if not sent:
        return "draft" if all(m.final_status == "draft" for m in c.mailings) else "scheduled"
    if t < min(m.planned_t for m in sent):
        return "scheduled"
    if c.type == "interactive":
        return "live"
    pending = [m for m in c.mailings if m.final_status == "scheduled"]
    last = max(m.planned_t + m.send_seconds for m in sent)
    if pending or t < last + 2 * DAY:
        return "in_progress"
    return "completed"


def _mailing_status(m: Mailing, t: int) -> tuple[str, int | None]:
    if m.final_status == "draft":
        return "draft", None
    if m.final_status == "cancelled":
        return ("cancelled" if m.cancelled_t and t >= m.cancelled_t else "scheduled"), None
    if m.final_status == "scheduled" or t < m.planned_t:
        return "scheduled", None
    if t < m.planned_t + m.send_seconds:
        return "sending", m.planned_t
    return "sent", m.planned_t


def write_exports(sink: Sink, plan: Plan, period: Period, seed: int) -> None:
    rng = stream(seed, "exports")
    for e, day in enumerate(export_days(period)):
        t_exp = period.day_t(day) + 21 * HOUR + int(rng.integers(0, 20 * MINUTE))
        mode = tf.ZULU if e % 4 == 3 else tf.OFFSET
        camps = [c for c in plan.campaigns if c.created_t <= t_exp]
        if camps:
            n = len(camps)
            cols = {
                "campaign_id": sarr([c.campaign_id for c in camps]),
                "name": sarr([c.name for c in camps]),
                "type": sarr([c.type for c in camps]),
                "status": sarr([_campaign_status(c, t_exp) for c in camps]),
                "created_at": tf.iso(np.array([c.created_t for c in camps]), 180),
                "exported_at": tf.iso(np.full(n, t_exp), 180, mode),
            }
            sink.add("campaigns", cols, np.full(n, t_exp + 5 * MINUTE), group=f"e{e + 1:02d}")
        mails = sorted(
            (m for m in plan.mailings if m.created_t <= t_exp), key=lambda m: m.mailing_id
        )
        if mails:
            n = len(mails)
            status = [_mailing_status(m, t_exp) for m in mails]
            sent_t = np.array([s[1] or 0 for s in status])
            sent_at = tf.iso(sent_t, 180, mode)
            cols = {
                "mailing_id": sarr([m.mailing_id for m in mails]),
                "campaign_id": sarr([m.campaign_id for m in mails]),
                "name": sarr([m.name for m in mails]),
                "channel": sarr([m.channel for m in mails]),
                "category": sarr([m.category for m in mails]),
                "status": sarr([s[0] for s in status]),
                "sent_at": pa.array(
                    [v if s[1] else None for v, s in zip(sent_at.to_pylist(), status, strict=True)],
                    pa.string(),
                ),
                "attribution_window_days": sarr(
                    [str(m.window_days) if m.window_days else None for m in mails]
                ),
                "body": sarr([m.body for m in mails]),
                "exported_at": tf.iso(np.full(n, t_exp), 180, mode),
            }
            sink.add("mailings", cols, np.full(n, t_exp + 7 * MINUTE), group=f"e{e + 1:02d}")


def write_products(sink: Sink, world: World, period: Period, seed: int) -> None:
    """Two catalog exports: day one, and mid-period with a few products renamed."""
    rng = stream(seed, "products")
    p = world.products
    for k, day in enumerate(sorted({0, period.days // 2})):
        t = period.day_t(day) + 2 * HOUR + int(rng.integers(0, HOUR))
        name = p.name
        if k:
            renamed = rng.random(p.n) < 0.03
            name = pa.array(
                np.where(renamed, np.asarray(name) + " (new recipe)", np.asarray(name)),
                pa.string(),
            )
        cols = {
            "product_id": p.product_id,
            "name": name,
            "category_id": p.category_id,
            "category_name": p.category_name,
            "exported_at": tf.iso(np.full(p.n, t), 180),
        }
        sink.add("products", cols, np.full(p.n, t + 10 * MINUTE), group=f"e{k + 1:02d}")
