"""E-mail: what happens to each message, rendered as SendGrid webhook events or as canonical
events of another e-mail provider (``mailgun``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .campaigns import Mailing
from .canonical import event_columns
from .outcome import NEVER, Outcome, expand, group_cumsum
from .period import DAY, HOUR, MINUTE
from .rng import choice_idx, stream
from .send import Send
from .strings import B64URL, HEX_UPPER, concat, const, ints, nullify, take, tokens, where
from .timefmt import unix
from .timing import arrival, geometric_counts, rhythm_after
from .world import World

# event kinds
(
    PROCESSED,
    DROPPED,
    DEFERRED,
    DELIVERED,
    BOUNCE,
    BLOCKED,
    OPEN,
    MACHINE_OPEN,
    CLICK,
    SPAM,
    UNSUB,
    GROUP_UNSUB,
    GROUP_RESUB,
) = range(13)
SENDGRID_EVENT = (
    "processed",
    "dropped",
    "deferred",
    "delivered",
    "bounce",
    "bounce",
    "open",
    "open",
    "click",
    "spamreport",
    "unsubscribe",
    "group_unsubscribe",
    "group_resubscribe",
)
CANONICAL_TYPES = (
    "delivered",
    "pending",
    "opened",
    "clicked",
    "soft_bounced",
    "hard_bounced",
    "failed",
    "unsubscribed",
    "spam_complaint",
)
# e-mail kind -> canonical type index (-1: the provider reports no such event)
TO_CANONICAL = np.array([-1, 6, 1, 0, 5, 4, 2, -1, 3, 8, 7, 7, -1])

DROP_REASONS = (
    "Bounced Address",
    "Unsubscribed Address",
    "Spam Reporting Address",
    "Invalid SMTPAPI header",
)
HARD_REASON = "550 5.1.1 The email account that you tried to reach does not exist."
BLOCKS = (
    ("Reputation", "5.7.1", "550 5.7.1 Service unavailable; client host blocked using Spamhaus"),
    ("Technical", "4.4.7", "421 4.4.7 Message expired, connection timed out"),
    ("Content", "5.7.1", "554 5.7.1 Message rejected because of unacceptable content"),
    ("Mailbox Unavailable", "5.2.2", "552 5.2.2 Mailbox full"),
    ("Unclassified", "5.0.0", "550 5.0.0 Rejected by recipient server"),
)
DEFER_RESPONSES = (
    "451 4.7.1 Temporarily rejected. Try again later.",
    "421 4.7.0 Try again later, closing connection.",
)
_WEBKIT = "AppleWebKit/537.36 (KHTML, like Gecko)"
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148",
    f"Mozilla/5.0 (Linux; Android 14; SM-A546B) {_WEBKIT} Chrome/126.0 Mobile Safari/537.36",
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_WEBKIT} Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_WEBKIT} YaBrowser/24.6 Safari/537.36",
)
MACHINE_UA = "Mozilla/5.0"
OCTETS = tuple(str(i) for i in range(256))


@dataclass
class EmailEvents:
    rec: np.ndarray  # index into the provider's recipients
    kind: np.ndarray
    t: np.ndarray
    link: np.ndarray  # click: link index, else -1
    render: np.ndarray  # click: how the link was written in the message
    attempt: np.ndarray  # deferred: attempt number
    block: np.ndarray  # blocked: index into BLOCKS
    drop: np.ndarray  # dropped: index into DROP_REASONS

    def select(self, index: np.ndarray) -> EmailEvents:
        return EmailEvents(*(getattr(self, f)[index] for f in EmailEvents.__dataclass_fields__))


def link_renderings(m: Mailing) -> list[str]:
    """Every link of the mailing as it appears in the message: with utm_* and fragments."""
    out = []
    for base in m.links:
        sep = "&" if "?" in base else "?"
        utm = f"utm_source=newsletter&utm_medium=email&utm_campaign={m.mailing_id}"
        out += [
            f"{base}{sep}{utm}&utm_content=header",
            f"{base}{sep}{utm}&utm_content=footer#offers",
            f"{base}#top",
            base,
        ]
    return out


def simulate(
    m: Mailing,
    cust: np.ndarray,
    variant: np.ndarray,
    t0: np.ndarray,
    world: World,
    rng: np.random.Generator,
    end_t: int,
) -> tuple[EmailEvents, Outcome]:
    c = world.customers
    n = len(cust)
    idx = np.arange(n)
    u = rng.random(n)
    dead = c.email_dead[cust]
    dropped = ~dead & (u < 0.004)
    blocked = ~dead & (u >= 0.004) & (u < 0.016)
    ok = ~dead & ~dropped & ~blocked
    n_def = np.where((rng.random(n) < 0.04) & ~dropped, rng.integers(1, 4, n), 0)
    gap = rng.integers(5 * MINUTE, 40 * MINUTE, n)
    t_proc = t0 + rng.integers(0, 3, n)
    t_final = t_proc + rng.integers(2, 40, n) + n_def * gap
    receipt_delay = np.where(rng.random(n) < 0.02, rng.integers(HOUR, 8 * HOUR, n), 0)

    parts: list[tuple] = []

    def add(rec, kind, t, link=None, render=None, attempt=None, block=None, drop=None):
        k = len(rec)
        neg = np.full(k, -1, np.int64)
        parts.append(
            (
                rec,
                np.full(k, kind, np.int8),
                t,
                link if link is not None else neg,
                render if render is not None else neg,
                attempt if attempt is not None else neg,
                block if block is not None else neg,
                drop if drop is not None else neg,
            )
        )

    add(idx[~dropped], PROCESSED, t_proc[~dropped])
    dr = idx[dropped]
    add(
        dr,
        DROPPED,
        t_proc[dropped] + rng.integers(1, 6, len(dr)),
        drop=choice_idx(rng, np.array([0.5, 0.3, 0.1, 0.1]), len(dr)),
    )
    d_rec, d_pos = expand(idx, n_def)
    add(
        d_rec,
        DEFERRED,
        t_proc[d_rec] + (d_pos + 1) * gap[d_rec] - rng.integers(0, 60, len(d_rec)),
        attempt=d_pos + 1,
    )
    add(idx[ok], DELIVERED, (t_final + receipt_delay)[ok])
    add(idx[dead], BOUNCE, t_final[dead])
    add(
        idx[blocked],
        BLOCKED,
        t_final[blocked],
        block=choice_idx(rng, np.array([0.35, 0.2, 0.15, 0.2, 0.1]), int(blocked.sum())),
    )

    # engagement of delivered messages
    boost = np.where(variant == 1, 1.2, 1.0)
    affinity = c.open_affinity[cust] * m.open_factor * boost
    opener = ok & (rng.random(n) < np.clip(0.24 * affinity, 0, 0.9))
    machine = ok & (((c.icloud[cust]) & (rng.random(n) < 0.85)) | (rng.random(n) < 0.03))
    add(idx[machine], MACHINE_OPEN, t_final[machine] + rng.integers(5, 600, int(machine.sum())))
    first_open = np.where(opener, rhythm_after(rng, t_final), -1)
    o_rec, o_pos = expand(idx[opener], geometric_counts(rng, int(opener.sum()), 0.4))
    o_gap = np.where(o_pos == 0, 0, 60 + rng.exponential(4 * HOUR, len(o_rec)).astype(np.int64))
    add(o_rec, OPEN, first_open[o_rec] + group_cumsum(o_gap, o_pos))

    p_click = np.clip(0.14 * m.click_factor * boost * np.sqrt(c.open_affinity[cust]), 0, 0.8)
    clicker = (opener & (rng.random(n) < p_click)) | (ok & ~opener & (rng.random(n) < 0.012))
    first_click = np.where(
        opener,
        first_open + 5 + rng.exponential(90, n).astype(np.int64),
        rhythm_after(rng, t_final),
    )
    first_click = np.where(clicker, first_click, -1)
    c_rec, c_pos = expand(idx[clicker], geometric_counts(rng, int(clicker.sum()), 0.45))
    c_gap = np.where(c_pos == 0, 0, 1 + rng.exponential(30 * MINUTE, len(c_rec)).astype(np.int64))
    n_links = len(m.links)
    link = choice_idx(rng, 1.0 / (1.0 + np.arange(n_links)) ** 1.2, len(c_rec))
    render = choice_idx(rng, np.array([0.45, 0.2, 0.15, 0.2]), len(c_rec))
    add(c_rec, CLICK, first_click[c_rec] + group_cumsum(c_gap, c_pos), link=link, render=render)

    def reaction(p: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        who = ok & (rng.random(n) < p)
        t = np.where(opener, first_open + rng.integers(10, 300, n), rhythm_after(rng, t_final))
        return who, np.where(who, t, NEVER)

    unsub, unsub_t = reaction(np.where(opener, 0.008, 0.003))
    gunsub, gunsub_t = reaction(np.where(opener, 0.005, 0.002))
    gunsub &= ~unsub
    spam, spam_t = reaction(0.0008)
    add(idx[unsub], UNSUB, unsub_t[unsub])
    add(idx[gunsub], GROUP_UNSUB, gunsub_t[gunsub])
    add(idx[spam], SPAM, spam_t[spam])
    resub = gunsub & (rng.random(n) < 0.15)
    resub_t = gunsub_t + rng.integers(DAY, 5 * DAY, n)
    add(idx[resub], GROUP_RESUB, resub_t[resub])

    ev = EmailEvents(*(np.concatenate(x) for x in zip(*parts, strict=True)))
    ev = ev.select(ev.t < end_t)

    out = Outcome.empty(n)
    out.delivered_t = np.where(ok, t_final, -1)
    out.open_t = np.where(opener & (first_open < end_t), first_open, -1)
    out.click_t = np.where(clicker & (first_click < end_t), first_click, -1)
    out.unsub_t = np.where(unsub & (unsub_t < end_t), unsub_t, NEVER)
    cat_t = np.where(gunsub & (gunsub_t < end_t), gunsub_t, NEVER)
    out.category_unsub_t = np.where(resub & (resub_t < end_t), NEVER, cat_t)
    return ev, out


def _ips(rng: np.random.Generator, n: int, machine: np.ndarray) -> pa.Array:
    first = np.where(machine, 17, rng.choice([5, 31, 37, 46, 77, 78, 85, 91, 94, 95, 176, 178], n))
    parts = [take(OCTETS, first)] + [take(OCTETS, rng.integers(1, 255, n)) for _ in range(3)]
    return concat(parts[0], ".", parts[1], ".", parts[2], ".", parts[3])


def sendgrid_columns(
    m: Mailing,
    ev: EmailEvents,
    cust: np.ndarray,
    pmid: pa.Array,
    world: World,
    rng: np.random.Generator,
) -> dict[str, pa.Array]:
    n_rec = len(cust)
    k = len(ev.t)
    rec = pa.array(ev.rec)
    ev_cust = pa.array(cust[ev.rec])
    c = world.customers
    suffix = concat(
        ".filter0",
        ints(rng.integers(1, 999, n_rec), 3),
        ".",
        ints(rng.integers(10000, 99999, n_rec)),
        ".",
        tokens(rng, n_rec, 8, HEX_UPPER),
        ".0",
    )
    sg_message_id = concat(pmid, suffix).take(rec)
    kind = ev.kind
    has_smtp = np.isin(kind, [PROCESSED, DROPPED, DEFERRED, DELIVERED, BOUNCE, BLOCKED])
    smtp_id = concat(
        "<", pmid, "@ismtpd0", ints(rng.integers(1, 60, n_rec), 3), "p1mum1.sendgrid.net>"
    )
    category = (
        json.dumps([m.category, m.campaign_id], separators=(",", ":"))
        if m.campaign_id
        else json.dumps(m.category)
    )
    is_open = np.isin(kind, [OPEN, MACHINE_OPEN])
    engaged = is_open | (kind == CLICK)
    machine = kind == MACHINE_OPEN
    url_table = link_renderings(m)
    url = nullify(take(url_table, np.maximum(ev.link * 4 + ev.render, 0)), kind != CLICK)
    url_offset = nullify(
        concat('{"index":', ints(np.maximum(ev.link, 0)), ',"type":"html"}'), kind != CLICK
    )
    is_bounce = (kind == BOUNCE) | (kind == BLOCKED)
    block = np.maximum(ev.block, 0)
    b_cls = where(kind == BOUNCE, "Invalid Address", take([b[0] for b in BLOCKS], block))
    b_status = where(kind == BOUNCE, "5.1.1", take([b[1] for b in BLOCKS], block))
    b_reason = where(kind == BOUNCE, HARD_REASON, take([b[2] for b in BLOCKS], block))
    reason = where(kind == DROPPED, take(DROP_REASONS, np.maximum(ev.drop, 0)), b_reason)
    response = where(
        kind == DEFERRED,
        take(DEFER_RESPONSES, rng.integers(0, 2, k)),
        concat("250 2.0.0 Ok: queued as ", tokens(rng, k, 12, B64URL)),
    )
    ua = where(machine, MACHINE_UA, take(USER_AGENTS, rng.integers(0, len(USER_AGENTS), k)))
    return {
        "email": c.email.take(ev_cust),
        "timestamp": unix(ev.t),
        "smtp-id": nullify(smtp_id.take(rec), ~has_smtp),
        "event": take(SENDGRID_EVENT, kind),
        "category": const(category, k),
        "sg_event_id": tokens(rng, k, 22, B64URL),
        "sg_message_id": sg_message_id,
        "asm_group_id": const(str(m.asm_group_id), k),
        "url": url,
        "url_offset": url_offset,
        "type": nullify(where(kind == BOUNCE, "bounce", "blocked"), ~is_bounce),
        "bounce_classification": nullify(b_cls, ~is_bounce),
        "reason": nullify(reason, ~(is_bounce | (kind == DROPPED))),
        "status": nullify(b_status, ~is_bounce),
        "response": nullify(response, ~np.isin(kind, [DELIVERED, DEFERRED])),
        "attempt": nullify(ints(np.maximum(ev.attempt, 0)), kind != DEFERRED),
        "tls": nullify(const("1", k), kind != DELIVERED),
        "useragent": nullify(ua, ~engaged),
        "ip": nullify(_ips(rng, k, machine), ~engaged),
        "sg_machine_open": nullify(where(machine, "true", "false"), ~is_open),
        "mailing_id": const(m.mailing_id, k),
        "customer_id": c.customer_id.take(ev_cust),
    }


def canonical_columns(
    m: Mailing, ev: EmailEvents, pmid: pa.Array, provider: str, rng: np.random.Generator
) -> dict[str, pa.Array]:
    kind, t, link, render = ev.kind, ev.t, ev.link, ev.render
    url = nullify(take(link_renderings(m), np.maximum(link * 4 + render, 0)), kind != CLICK)
    block = np.maximum(ev.block, 0)
    code = where(kind == BOUNCE, "550", take(["550", "421", "554", "552", "550"], block))
    is_bounce = (kind == BOUNCE) | (kind == BLOCKED)
    reason = where(kind == BOUNCE, "No such mailbox", take([b[2] for b in BLOCKS], block))
    reason = where(kind == DROPPED, "Not delivering to previously bounced address", reason)
    return event_columns(
        rng,
        provider,
        "email",
        pmid.take(pa.array(ev.rec)),
        TO_CANONICAL[kind],
        CANONICAL_TYPES,
        t,
        url=url,
        error_code=nullify(code, ~is_bounce),
        reason=nullify(reason, ~(is_bounce | (kind == DROPPED))),
    )


def run(s: Send, provider: str) -> Outcome:
    rng = stream(s.seed, "email", s.m.mailing_id, provider, s.part)
    ev, out = simulate(s.m, s.cust, s.variant, s.t0, s.world, rng, s.end_t)
    if provider != "sendgrid":  # the canonical feed has no processed / machine-open events
        ev = ev.select(TO_CANONICAL[ev.kind] >= 0)
    arrive = arrival(rng, ev.t, mean_lag=60 if provider == "sendgrid" else 300, late_share=0.03)
    order = np.argsort(arrive, kind="stable")
    ev, arrive = ev.select(order), arrive[order]
    if provider == "sendgrid":
        s.sink.add("sendgrid", sendgrid_columns(s.m, ev, s.cust, s.pmid, s.world, rng), arrive)
    else:
        columns = canonical_columns(s.m, ev, s.pmid, provider, rng)
        s.sink.add("events", columns, arrive, group=provider)
    return out
