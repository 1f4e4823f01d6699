"""Audiences (who a mailing targets, and their eligibility) and dispatches (what was sent).

Eligibility follows each customer's history: people who unsubscribed from a channel or a
category earlier (before the period, or from an earlier mailing) are excluded with that status;
people contacted in the last hours are blocked by the communication policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import timefmt as tf
from .campaigns import Mailing
from .period import DAY, HOUR, MINUTE, Period
from .programme import Holdout
from .rng import choice_idx, stream
from .sink import Sink
from .strings import HEX, concat, const, ints, nullify, substr, take, tokens, where
from .world import World

NEVER = np.iinfo(np.int64).max

STATUSES = (
    "good",
    "address_issue",
    "unsubscribed_channel",
    "unsubscribed_category",
    "policy_blocked",
)
GOOD, ADDRESS_ISSUE, UNSUB_CHANNEL, UNSUB_CATEGORY, POLICY = range(5)
VARIANTS = ("A", "B")

SKIP_REASONS = (
    "SkippedNoContent",
    "SkippedHypersonalization",
    "FailedHypersonalization",
    "ContentTooLong",
)
OTHER_SKIP = {
    "email": "TemplateRenderError",
    "sms": "RateLimitExceeded",
    "push": "AppVersionTooOld",
}
SKIP_RATE = {"email": 0.006, "sms": 0.035, "push": 0.01}
MIN_SKIPS = {"email": 2, "sms": 5, "push": 2}

BAD_EMAILS = ("ivan@", "@mail.ru", "petrov.mail.ru", "n/a", "olga.smirnova@mail")
BAD_PHONES = ("+7912", "12345", "8-800", "+7 (000) 000-00-00", "none")


@dataclass
class ContactState:
    """When each customer unsubscribed (epoch s; NEVER if not) and was last contacted."""

    unsub_t: dict[str, np.ndarray]  # by channel
    category_unsub_t: dict[str, np.ndarray]
    last_contact_t: np.ndarray
    # the global holdout: the platform keeps its members out of every audience (programme.py)
    holdout: Holdout | None = None

    @classmethod
    def initial(cls, seed: int, n: int, period: Period, categories: list[str]) -> ContactState:
        rng = stream(seed, "state")
        before = period.start_t - 30 * DAY

        def flags(p: float) -> np.ndarray:
            return np.where(rng.random(n) < p, before, NEVER)

        return cls(
            {"email": flags(0.04), "sms": flags(0.03), "push": flags(0.02)},
            {c: flags(0.03) for c in sorted(set(categories))},
            np.full(n, period.start_t - 365 * DAY, dtype=np.int64),
        )

    def category(self, name: str) -> np.ndarray:
        return self.category_unsub_t.setdefault(name, np.full(len(self.last_contact_t), NEVER))


@dataclass
class Audience:
    cust: np.ndarray
    status: np.ndarray  # index into STATUSES
    control: np.ndarray  # bool
    variant: np.ndarray  # -1 or index into VARIANTS


def build_audience(m: Mailing, world: World, state: ContactState, seed: int) -> Audience:
    rng = stream(seed, "audience", m.mailing_id)
    c = world.customers
    t = m.planned_t
    if m.channel == "push":
        pool = (c.platform >= 0) | (rng.random(c.n) < 0.04)
    else:
        pool = np.ones(c.n, dtype=bool)
    drawn = pool & (rng.random(c.n) < m.audience_share)
    if state.holdout is not None:
        drawn &= ~state.holdout.held_out(t)
    cust = np.flatnonzero(drawn)
    n = len(cust)

    no_address = {"email": ~c.has_email, "sms": ~c.has_phone, "push": c.platform < 0}[m.channel]
    # communication policy: at most one message in 12 hours (mostly), plus other rules
    recent = t - state.last_contact_t[cust] < 12 * HOUR
    status = np.full(n, GOOD, dtype=np.int8)
    status[(recent & (rng.random(n) < 0.6)) | (rng.random(n) < 0.025)] = POLICY
    status[state.category(m.category)[cust] < t] = UNSUB_CATEGORY
    status[state.unsub_t[m.channel][cust] < t] = UNSUB_CHANNEL
    status[no_address[cust]] = ADDRESS_ISSUE
    for code in range(1, len(STATUSES)):  # every status shows up in every audience
        if not (status == code).any():
            good = np.flatnonzero(status == GOOD)
            status[rng.choice(good, size=min(2, len(good)), replace=False)] = code

    control = rng.random(n) < m.control_share
    variant = np.full(n, -1, dtype=np.int8)
    if m.variants:
        variant[~control] = rng.integers(0, len(m.variants), int((~control).sum()))
    return Audience(cust, status, control, variant)


def audience_table(m: Mailing, aud: Audience, world: World, seed: int) -> dict[str, pa.Array]:
    rng = stream(seed, "audience-table", m.mailing_id)
    c = world.customers
    n = len(aud.cust)
    idx = pa.array(aud.cust)
    issue = aud.status == ADDRESS_ISSUE
    if m.channel == "email":
        address = c.email_display.take(idx)
        bad = take(BAD_EMAILS, rng.integers(0, len(BAD_EMAILS), n))
    elif m.channel == "sms":
        address = c.phone_display.take(idx)
        bad = take(BAD_PHONES, rng.integers(0, len(BAD_PHONES), n))
    else:
        address = pa.nulls(n, pa.string())
        bad = address
    malformed = issue & (rng.random(n) < 0.4)
    address = where(malformed, bad, address)
    address = nullify(address, issue & ~malformed)
    return {
        "mailing_id": const(m.mailing_id, n),
        "customer_id": c.customer_id.take(idx),
        "group": where(aud.control, "control", "treatment"),
        "variant": nullify(take(VARIANTS, np.maximum(aud.variant, 0)), aud.variant < 0),
        "status": take(STATUSES, aud.status),
        "address": address,
    }


@dataclass
class Dispatches:
    cust: np.ndarray
    variant: np.ndarray
    t: np.ndarray  # dispatched_at, epoch s
    sent: np.ndarray  # bool; else skipped
    provider: np.ndarray  # index into mailing.providers
    pmid: pa.Array  # provider message id (null when skipped)
    skip_reason: np.ndarray  # -1 or index into reasons(m)


def reasons(m: Mailing) -> tuple[str, ...]:
    return SKIP_REASONS + (OTHER_SKIP[m.channel],)


def message_ids(provider: str, rng: np.random.Generator, n: int) -> pa.Array:
    if provider == "sendgrid":
        return tokens(rng, n, 22)
    if provider == "twilio":
        return concat("SM", tokens(rng, n, 32, HEX))
    if provider == "push":
        h = tokens(rng, n, 32, HEX)
        parts = [substr(h, a, b) for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))]
        return pc.binary_join_element_wise(*parts, "-")
    if provider == "mailgun":
        return concat("mg-", tokens(rng, n, 24, HEX))
    return concat(provider, "-", ints(rng.integers(10**11, 10**12, n)))


def build_dispatches(m: Mailing, aud: Audience, seed: int) -> Dispatches:
    rng = stream(seed, "dispatch", m.mailing_id)
    treat = np.flatnonzero((aud.status == GOOD) & ~aud.control)
    order = rng.permutation(treat)
    n = len(order)
    # sending takes a while: the queue drains over ``send_seconds``
    t = m.planned_t + (np.arange(n) * m.send_seconds // max(n, 1)) + rng.integers(0, 5, n)
    skipped = rng.random(n) < SKIP_RATE[m.channel]
    need = min(MIN_SKIPS[m.channel], n)
    if skipped.sum() < need:
        skipped[rng.choice(n, size=need, replace=False)] = True
    rs = reasons(m)
    weights = np.array([0.12, 0.25, 0.15, 0.3, 0.18])
    reason = np.where(skipped, choice_idx(rng, weights, n), -1)
    sk = np.flatnonzero(skipped)
    k = min(len(sk), len(rs))
    reason[sk[:k]] = np.arange(k)  # every reason at least once when there is room
    shares = np.array([s for _, s in m.providers])
    provider = choice_idx(rng, shares, n)
    pmid = pa.nulls(n, pa.string())
    for p, (name, _) in enumerate(m.providers):
        rows = np.flatnonzero((provider == p) & ~skipped)
        if len(rows):
            ids = message_ids(name, rng, len(rows))
            pmid = pc.replace_with_mask(pmid, _mask(n, rows), ids)
    return Dispatches(
        aud.cust[order], aud.variant[order], t.astype(np.int64), ~skipped, provider, pmid, reason
    )


def _mask(n: int, rows: np.ndarray) -> pa.Array:
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return pa.array(mask)


def dispatch_table(m: Mailing, d: Dispatches, world: World, seed: int) -> dict[str, pa.Array]:
    rng = stream(seed, "dispatch-table", m.mailing_id)
    n = len(d.cust)
    modes = tf.pick_modes(rng, n, 0.1, 0.05)
    segments = pa.nulls(n, pa.string())
    if m.channel == "sms" and m.sms_segments:
        known = d.sent & (np.array([name for name, _ in m.providers])[d.provider] == "twilio")
        known &= rng.random(n) < 0.7
        segments = nullify(const(str(m.sms_segments), n), ~known)
    return {
        "mailing_id": const(m.mailing_id, n),
        "customer_id": world.customers.customer_id.take(pa.array(d.cust)),
        "channel": const(m.channel, n),
        "provider": take([name for name, _ in m.providers], d.provider),
        "provider_message_id": d.pmid,
        "dispatched_at": tf.iso(d.t, 180, modes),
        "status": where(d.sent, "sent", "skipped"),
        "skip_reason": nullify(take(reasons(m), np.maximum(d.skip_reason, 0)), d.sent),
        "segments": segments,
    }


def write_audience_and_dispatches(
    sink: Sink, m: Mailing, world: World, state: ContactState, seed: int
) -> tuple[Audience, Dispatches]:
    aud = build_audience(m, world, state, seed)
    rng = stream(seed, "landing", m.mailing_id)
    t_aud = m.planned_t - int(rng.integers(20, 90)) * MINUTE
    sink.add(
        "audience",
        audience_table(m, aud, world, seed),
        np.full(len(aud.cust), t_aud),
        group=m.mailing_id,
    )
    d = build_dispatches(m, aud, seed)
    # the dispatch log is shipped after the send; one mailing in six lands a day late,
    # after its provider events
    late = DAY if m.idx % 6 == 4 else 0
    arrival = m.planned_t + m.send_seconds + int(rng.integers(5, 40)) * MINUTE + late
    sink.add(
        "dispatches",
        dispatch_table(m, d, world, seed),
        np.full(len(d.cust), arrival),
        group=m.mailing_id,
    )
    state.last_contact_t[d.cust[d.sent]] = np.maximum(
        state.last_contact_t[d.cust[d.sent]], d.t[d.sent]
    )
    return aud, d


def volume_counts(aud: Audience, d: Dispatches, m: Mailing) -> dict:
    """The mart_mailing_volume numbers of a mailing (clean rows only, as landed)."""
    counts: dict = {"channel": m.channel, "providers": [p for p, _ in m.providers]}
    counts.update({s: int((aud.status == i).sum()) for i, s in enumerate(STATUSES)})
    counts["good_recipients"] = counts.pop("good")
    counts["audience_total"] = len(aud.cust)
    counts["control_group"] = int(((aud.status == GOOD) & aud.control).sum())
    counts["skipped"] = int((~d.sent).sum())
    counts["actual_recipients"] = int(d.sent.sum())
    rs = reasons(m)
    counts["skip_reasons"] = {
        rs[i]: int((d.skip_reason == i).sum()) for i in range(len(rs)) if (d.skip_reason == i).any()
    }
    return counts
