"""SMS: Twilio message records (status snapshots), inbound replies, link clicks, and the
canonical events of a second SMS route (``smsc``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import timefmt as tf
from .campaigns import Mailing
from .canonical import event_columns
from .outcome import NEVER, Outcome, expand, group_cumsum
from .period import DAY, HOUR, MINUTE
from .rng import choice_idx, stream
from .send import Send
from .strings import HEX, concat, const, ints, nullify, take, tokens, where
from .timing import arrival, geometric_counts, rhythm_after, status_timeline

SENDER = "+79585550100"
PRICE_PER_SEGMENT = 0.0491

# final states
DELIVERED, SENT, QUEUED, UNDELIVERED, FAILED = range(5)
STATUS = ("delivered", "sent", "queued", "undelivered", "failed")

ERRORS = {
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    39999: "Carrier rejected the message (unmapped response)",
}
ERROR_CODES = np.array(sorted(ERRORS) + [99999])
ERROR_TEXT = [ERRORS[c] for c in sorted(ERRORS)] + [""]
UNDELIVERED_CODES = np.array([30003, 30005, 30006, 30007, 30008, 30004, 39999])
UNDELIVERED_W = np.array([0.35, 0.15, 0.12, 0.12, 0.1, 0.08, 0.08])
FAILED_CODES = np.array([21610, 21614, 30008])
FAILED_W = np.array([0.45, 0.35, 0.2])

OPT_OUT = ("STOP", "stop", " Stop ", "Unsubscribe", "STOPALL", "cancel", "END", "quit")
OTHER_REPLIES = ("Thanks!", "Спасибо", "What is this?", "STOP it please", "ok")

_WEBKIT = "AppleWebKit/537.36 (KHTML, like Gecko)"
CLICK_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    f"Mozilla/5.0 (Linux; Android 14; Pixel 7) {_WEBKIT} Chrome/126.0 Mobile Safari/537.36",
    f"Mozilla/5.0 (Linux; Android 13; Redmi Note 12) {_WEBKIT} Chrome/125.0 Mobile Safari/537.36",
)

SMSC_TYPES = ("delivered", "pending", "failed", "clicked", "unsubscribed")
SMSC_ERRORS = (
    ("1", "Unknown subscriber"),
    ("6", "Absent subscriber"),
    ("13", "Call barred"),
    ("99", "Other error"),
)


def account(seed: int) -> tuple[str, str]:
    rng = stream(seed, "twilio-account")
    ac = "AC" + tokens(rng, 1, 32, HEX)[0].as_py()
    mg = "MG" + tokens(rng, 1, 32, HEX)[0].as_py()
    return ac, mg


def link_urls(m: Mailing) -> list[str]:
    utm = f"utm_source=sms&utm_medium=sms&utm_campaign={m.mailing_id}"
    return [f"{base}{'&' if '?' in base else '?'}{utm}" for base in m.links]


def _final_state(rng: np.random.Generator, dead_code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(dead_code)
    state = choice_idx(rng, np.array([0.89, 0.035, 0.008, 0.05, 0.017]), n)
    code = np.zeros(n, np.int64)
    und = state == UNDELIVERED
    code[und] = UNDELIVERED_CODES[choice_idx(rng, UNDELIVERED_W, int(und.sum()))]
    fail = state == FAILED
    code[fail] = FAILED_CODES[choice_idx(rng, FAILED_W, int(fail.sum()))]
    dead = dead_code > 0
    state[dead] = np.where(np.isin(dead_code[dead], [21614, 21610]), FAILED, UNDELIVERED)
    code[dead] = dead_code[dead]
    return state, code


def run_twilio(s: Send) -> Outcome:
    rng = stream(s.seed, "twilio", s.m.mailing_id, s.part)
    ac, mg = account(s.seed)
    c = s.world.customers
    n = len(s.cust)
    idx = np.arange(n)
    state, code = _final_state(rng, c.phone_dead_code[s.cust])
    t_created = s.t0 + rng.integers(0, 3, n)
    t_sent = t_created + rng.integers(1, 9, n)
    slow = rng.random(n) < 0.05
    t_final = np.select(
        [
            state == DELIVERED,
            (state == UNDELIVERED) & (code == 30003),
            state == UNDELIVERED,
            state == FAILED,
        ],
        [
            t_sent
            + np.where(slow, rng.integers(10 * MINUTE, 6 * HOUR, n), rng.integers(3, 180, n)),
            t_sent + rng.integers(4 * HOUR, 48 * HOUR, n),
            t_sent + rng.integers(5, 600, n),
            t_created + rng.integers(1, 4, n),
        ],
        default=t_sent,
    )

    # snapshots: queued (some), sent (some), and the final state
    snap_q = (state == QUEUED) | (rng.random(n) < 0.6)
    snap_s = (state == SENT) | (np.isin(state, [DELIVERED, UNDELIVERED]) & (rng.random(n) < 0.75))
    snap_f = np.isin(state, [DELIVERED, UNDELIVERED, FAILED])
    rec, st, t_upd, arrive = status_timeline(
        rng,
        [
            (idx[snap_q], QUEUED, t_created[snap_q]),
            (idx[snap_s], SENT, t_sent[snap_s]),
            (idx[snap_f], state[snap_f], t_final[snap_f]),
        ],
        s.end_t,
        mean_lag=8 * MINUTE,
        late_share=0.03,
    )
    k = len(rec)
    r = pa.array(rec)
    segs = s.m.sms_segments or 1
    no_segments = rng.random(n) < 0.12  # Twilio leaves num_segments empty for some messages
    has_sent = np.isin(st, [SENT, DELIVERED, UNDELIVERED])
    is_err = np.isin(st, [UNDELIVERED, FAILED])
    err = code[rec]
    sid = s.pmid.take(r)
    cols = {
        "account_sid": const(ac, k),
        "api_version": const("2010-04-01", k),
        "body": const(s.m.body, k),
        "date_created": tf.rfc2822(t_created[rec]),
        "date_sent": nullify(tf.rfc2822(t_sent[rec]), ~has_sent),
        "date_updated": tf.rfc2822(t_upd),
        "direction": const("outbound-api", k),
        "error_code": nullify(ints(err), ~is_err),
        "error_message": nullify(take(ERROR_TEXT, np.searchsorted(ERROR_CODES, err)), ~is_err),
        "from": const(SENDER, k),
        "messaging_service_sid": const(mg, k),
        "num_media": const("0", k),
        "num_segments": nullify(const(str(segs), k), no_segments[rec]),
        "price": nullify(const(f"-{PRICE_PER_SEGMENT * segs:.5f}", k), ~has_sent),
        "price_unit": const("USD", k),
        "sid": sid,
        "status": take(STATUS, st),
        "to": c.phone.take(pa.array(s.cust[rec])),
        "uri": concat(f"/2010-04-01/Accounts/{ac}/Messages/", sid, ".json"),
    }
    s.sink.add("twilio", cols, arrive)

    out = Outcome.empty(n)
    reached = np.isin(state, [DELIVERED, SENT])
    out.delivered_t = np.where(state == DELIVERED, t_final, -1)
    _inbound(s, state, t_final, rng, ac, mg, out)
    _clicks(s, reached, t_final, rng, ac, mg, out)
    return out


def _inbound(
    s: Send,
    state: np.ndarray,
    t_final: np.ndarray,
    rng: np.random.Generator,
    ac: str,
    mg: str,
    out: Outcome,
) -> None:
    """Replies from recipients: opt-out keywords (an SMS unsubscribe) and other texts."""
    n = len(s.cust)
    delivered = state == DELIVERED
    u = rng.random(n)
    stop = delivered & (u < 0.008)
    other = delivered & (u >= 0.008) & (u < 0.0105)
    who = stop | other
    t = rhythm_after(rng, t_final, immediate_share=0.6, immediate_mean=15 * MINUTE)
    who &= t < s.end_t
    rows = np.flatnonzero(who)
    k = len(rows)
    if k == 0:
        return
    arrive = arrival(rng, t[rows], mean_lag=8 * MINUTE)
    order = np.argsort(arrive, kind="stable")
    rows, arrive = rows[order], arrive[order]
    body = where(
        stop[rows],
        take(OPT_OUT, rng.integers(0, len(OPT_OUT), k)),
        take(OTHER_REPLIES, rng.integers(0, len(OTHER_REPLIES), k)),
    )
    c = s.world.customers
    ci = pa.array(s.cust[rows])
    sender = where(rng.random(k) < 0.15, c.phone_formatted.take(ci), c.phone.take(ci))
    sid = concat("SM", tokens(rng, k, 32, HEX))
    ts = tf.rfc2822(t[rows])
    cols = {
        "account_sid": const(ac, k),
        "api_version": const("2010-04-01", k),
        "body": body,
        "date_created": ts,
        "date_sent": ts,
        "date_updated": ts,
        "direction": const("inbound", k),
        "from": sender,
        "messaging_service_sid": const(mg, k),
        "num_media": const("0", k),
        "num_segments": const("1", k),
        "price": const("-0.00750", k),
        "price_unit": const("USD", k),
        "sid": sid,
        "status": const("received", k),
        "to": const(SENDER, k),
        "uri": concat(f"/2010-04-01/Accounts/{ac}/Messages/", sid, ".json"),
    }
    s.sink.add("twilio", cols, arrive)
    stop_rows = np.flatnonzero(stop & who)
    out.unsub_t[stop_rows] = t[stop_rows]


def _clicks(
    s: Send,
    reached: np.ndarray,
    t_final: np.ndarray,
    rng: np.random.Generator,
    ac: str,
    mg: str,
    out: Outcome,
) -> None:
    n = len(s.cust)
    c = s.world.customers
    boost = np.where(s.variant == 1, 1.25, 1.0)
    p = np.clip(0.06 * s.m.click_factor * boost * np.sqrt(c.open_affinity[s.cust]), 0, 0.5)
    clicker = reached & (rng.random(n) < p)
    first = rhythm_after(rng, t_final, immediate_share=0.5, immediate_mean=10 * MINUTE)
    rec, pos = expand(np.flatnonzero(clicker), geometric_counts(rng, int(clicker.sum()), 0.35))
    gap = np.where(
        pos == 0, 0, 1000 + rng.exponential(20 * MINUTE * 1000, len(rec)).astype(np.int64)
    )
    t_ms = first[rec] * 1000 + rng.integers(0, 1000, len(rec)) + group_cumsum(gap, pos)
    link = choice_idx(rng, 1.0 / (1.0 + np.arange(len(s.m.links))) ** 1.5, len(rec))
    keep = t_ms // 1000 < s.end_t
    rec, t_ms, link = rec[keep], t_ms[keep], link[keep]
    arrive = arrival(rng, t_ms // 1000, mean_lag=30)
    order = np.argsort(arrive, kind="stable")
    rec, t_ms, link, arrive = rec[order], t_ms[order], link[order], arrive[order]
    k = len(rec)
    if k:
        r = pa.array(rec)
        cols = {
            "event_type": const("click", k),
            "sms_sid": s.pmid.take(r),
            "to": c.phone.take(pa.array(s.cust[rec])),
            "link": take(link_urls(s.m), link),
            "click_time": tf.iso_ms_z(t_ms),
            "messaging_service_sid": const(mg, k),
            "account_sid": const(ac, k),
            "user_agent": take(CLICK_UA, rng.integers(0, len(CLICK_UA), k)),
        }
        s.sink.add("twilio_clicks", cols, arrive)
    out.click_t = np.where(clicker & (first < s.end_t), first, -1)


def run_smsc(s: Send) -> Outcome:
    """A second SMS route reporting in the canonical event format."""
    rng = stream(s.seed, "smsc", s.m.mailing_id, s.part)
    c = s.world.customers
    n = len(s.cust)
    idx = np.arange(n)
    dead = c.phone_dead_code[s.cust] > 0
    u = rng.random(n)
    failed = dead | (u < 0.06)
    delivered = ~failed & (u < 0.96)
    err = np.where(dead, 0, choice_idx(rng, np.array([0.2, 0.45, 0.2, 0.15]), n))
    t_pend = s.t0 + rng.integers(1, 5, n)
    t_fin = t_pend + np.where(
        err == 1, rng.integers(6 * HOUR, 30 * HOUR, n), rng.integers(3, 300, n)
    )
    pending = rng.random(n) < 0.3
    boost = np.where(s.variant == 1, 1.25, 1.0)
    clicker = delivered & (rng.random(n) < 0.06 * s.m.click_factor * boost)
    t_click = rhythm_after(rng, t_fin, immediate_share=0.5, immediate_mean=10 * MINUTE)
    unsub = delivered & (rng.random(n) < 0.005)
    t_unsub = t_fin + rng.integers(MINUTE, DAY, n)

    rec, typ, t, arrive = status_timeline(
        rng,
        [
            (idx[pending], 1, t_pend[pending]),
            (idx[delivered], 0, t_fin[delivered]),
            (idx[failed], 2, t_fin[failed]),
            (idx[clicker], 3, t_click[clicker]),
            (idx[unsub], 4, t_unsub[unsub]),
        ],
        s.end_t,
        mean_lag=120,
    )
    e = err[rec]
    is_fail = typ == 2
    urls = link_urls(s.m)
    cols = event_columns(
        rng,
        "smsc",
        "sms",
        s.pmid.take(pa.array(rec)),
        typ,
        SMSC_TYPES,
        t,
        url=nullify(take(urls, np.zeros(len(rec), int)), typ != 3),
        error_code=nullify(take([x[0] for x in SMSC_ERRORS], e), ~is_fail),
        reason=nullify(take([x[1] for x in SMSC_ERRORS], e), ~is_fail),
    )
    s.sink.add("events", cols, arrive, group="smsc")
    out = Outcome.empty(n)
    out.delivered_t = np.where(delivered, t_fin, -1)
    out.click_t = np.where(clicker & (t_click < s.end_t), t_click, -1)
    out.unsub_t = np.where(unsub & (t_unsub < s.end_t), t_unsub, NEVER)
    return out
