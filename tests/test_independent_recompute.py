"""Independent recompute: headline numbers of three mailings from the RAW landed files, in pandas.

Nothing here uses the ingestion package or dbt: the landed files are read with pandas / pyarrow /
json, bad rows are dropped by the validity rules of feeds.md ("Bad input"), replays and snapshots
are deduplicated, and the numbers are compared with the published marts of the real CLI run
(`pipeline_run` fixture, data_dir/reports.duckdb).

Mailings (scale-1 demo, seed 7): mlg-1001 e-mail (SendGrid) with a control group and A/B
variants; mlg-1002 SMS (Twilio); mlg-1004 push without a control group. mart_channel_daily is
recomputed for every channel and date: the messages of every provider (SendGrid, Twilio, push and
the canonical `events` feed) by the Moscow date of their dispatch, delivered and clicked; and
mart_global_holdout for every month: holdout and messaged members and buyers.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow

EMAIL, SMS, PUSH = "mlg-1001", "mlg-1002", "mlg-1004"
MAILINGS = (EMAIL, SMS, PUSH)
RUB = "RUB"
DEFAULT_WINDOW_DAYS = 7
REPORTING_TZ = "Europe/Moscow"
CANONICAL_EVENTS = {
    "delivered",
    "pending",
    "opened",
    "clicked",
    "soft_bounced",
    "hard_bounced",
    "failed",
    "unsubscribed",
    "spam_complaint",
}
ELIGIBILITY = (
    "good",
    "address_issue",
    "unsubscribed_channel",
    "unsubscribed_category",
    "policy_blocked",
)
SENDGRID_EVENTS = {
    "processed",
    "dropped",
    "delivered",
    "deferred",
    "bounce",
    "open",
    "click",
    "spamreport",
    "unsubscribe",
    "group_unsubscribe",
    "group_resubscribe",
}
TWILIO_STATUS = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
    "receiving": None,
    "received": None,
}
# reports.md "Final status": delivered > failed/undelivered/bounced > sent > queued/pending.
PRECEDENCE = {"delivered": 4, "failed": 3, "sent": 2, "queued": 1}
# demo_data/README.md "Error codes" (the spec's categories, written out independently of the seed).
SMS_ERROR_CATEGORY = {
    "30003": "expired",
    "30005": "routing_error",
    # demo_data/README.md lists 21614 under routing, but Twilio's text for it is "'To' number is
    # not a valid mobile number" (a landline), and reports.md puts "a landline" under rejected:
    # the spec wins (the dbt seed agrees).
    "21614": "rejected",
    "30004": "rejected",
    "30006": "rejected",
    "30007": "rejected",
    "21610": "rejected",
}
ORDER_LIFECYCLE = {
    "placed": 1,
    "paid": 2,
    "shipped": 3,
    "delivered": 4,
    "cancelled": 5,
    "returned": 5,
}
REQUIRED_COLUMNS = {"dispatches": {"mailing_id", "customer_id", "dispatched_at", "status"}}


# ---------------------------------------------------------------------------------------------
# Reading and validating the raw files
# ---------------------------------------------------------------------------------------------


def read_feed(landing: Path, feed: str) -> pd.DataFrame:
    """Every readable file of a feed, in path order; unreadable files and cut-off lines skipped."""
    frames = []
    for path in sorted(p for p in (landing / feed).rglob("*") if p.is_file()):
        name = path.name
        try:
            if name.endswith(".parquet"):
                df = pq.read_table(path).to_pandas()
            elif name.endswith((".csv", ".csv.gz")):
                df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
            else:
                raw = path.read_bytes()
                raw = gzip.decompress(raw) if name.endswith(".gz") else raw
                text = raw.decode()
                if name.endswith((".ndjson", ".jsonl")):
                    records = []
                    for line in text.splitlines():
                        try:
                            records.append(json.loads(line))
                        except json.JSONDecodeError:
                            continue  # malformed_json: a cut-off line
                else:
                    records = json.loads(text)
                df = pd.DataFrame(records)
        except (OSError, EOFError, ValueError):
            continue  # truncated gzip, not JSON: the whole file is quarantined
        if not REQUIRED_COLUMNS.get(feed, set()) <= set(df.columns):
            continue  # missing_column: the file fails
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def iso_ts(values: pd.Series) -> pd.Series:
    """ISO 8601, offset optional (none = UTC); anything else NaT."""
    return pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")


def ok_ts(values: pd.Series, parsed: pd.Series, nullable: bool = False) -> pd.Series:
    return parsed.notna() | (values.isna() if nullable else False)


def ok_number(values: pd.Series) -> pd.Series:
    """Null or numeric."""
    return values.isna() | pd.to_numeric(values, errors="coerce").notna()


def drop_replays(df: pd.DataFrame) -> pd.DataFrame:
    """Exact replays (same record again) count once."""
    return df.loc[~df.astype(str).duplicated()]


def load_mailings(landing: Path) -> pd.DataFrame:
    m = read_feed(landing, "mailings")
    m["sent_ts"] = iso_ts(m["sent_at"])
    m["exported_ts"] = iso_ts(m["exported_at"])
    valid = (
        m["mailing_id"].notna()
        & m["channel"].isin(["email", "sms", "push"])
        & m["status"].isin(["draft", "scheduled", "sending", "sent", "cancelled"])
        & ok_ts(m["sent_at"], m["sent_ts"], nullable=True)
        & m["exported_ts"].notna()
        & ok_number(m["attribution_window_days"])
    )
    m = m.loc[valid].sort_values("exported_ts", kind="stable")
    m = m.drop_duplicates("mailing_id", keep="last").set_index("mailing_id")
    days = pd.to_numeric(m["attribution_window_days"], errors="coerce")
    m["days"] = days.fillna(DEFAULT_WINDOW_DAYS).astype(int)
    return m


def load_audience(landing: Path) -> pd.DataFrame:
    a = read_feed(landing, "audience")
    valid = (
        a["mailing_id"].notna()
        & a["customer_id"].notna()
        & a["group"].isin(["treatment", "control"])
        & a["status"].isin(ELIGIBILITY)
    )
    # DECISIONLOG "Audience has no snapshot time": a re-export of (mailing, customer) replaces
    # the earlier row (latest loaded wins; files load in path order).
    a = a.loc[valid].drop_duplicates(["mailing_id", "customer_id"], keep="last")
    return a


def load_dispatches(landing: Path) -> pd.DataFrame:
    d = read_feed(landing, "dispatches")
    d["dispatched_ts"] = iso_ts(d["dispatched_at"])
    valid = (
        d["mailing_id"].notna()
        & d["customer_id"].notna()
        & d["channel"].isin(["email", "sms", "push"])
        & d["status"].isin(["sent", "skipped"])
        & d["dispatched_ts"].notna()
    )
    d = drop_replays(d.loc[valid])
    # DECISIONLOG "A provider message id is one dispatch": dedupe (provider, id), latest wins;
    # skipped rows (no id) keep their raw grain.
    keyed = d["provider_message_id"].notna()
    latest = d.loc[keyed].drop_duplicates(["provider", "provider_message_id"], keep="last")
    return pd.concat([latest, d.loc[~keyed]])


def load_purchases(landing: Path) -> pd.DataFrame:
    """customer_id, purchased_at (UTC) of every purchase (POS sale, order not cancelled)."""
    r = read_feed(landing, "receipts")
    r["ts"] = iso_ts(r["purchased_at"])
    valid = (
        r["receipt_id"].notna()
        & r["ts"].notna()
        & r["type"].isin(["sale", "return"])
        & pd.to_numeric(r["total_amount"], errors="coerce").notna()
        & (r["currency"] == RUB)
    )
    r = r.loc[valid].drop_duplicates("receipt_id")
    sales = r.loc[(r["type"] == "sale") & r["customer_id"].notna(), ["customer_id", "ts"]]

    o = read_feed(landing, "orders")
    o["ts"] = iso_ts(o["created_at"])
    o["updated_ts"] = iso_ts(o["updated_at"])
    valid = (
        o["order_id"].notna()
        & o["ts"].notna()
        & o["updated_ts"].notna()
        & o["status"].isin(list(ORDER_LIFECYCLE))
        & pd.to_numeric(o["total_amount"], errors="coerce").notna()
        & (o["currency"] == RUB)
    )
    o = o.loc[valid].assign(rank=lambda x: x["status"].map(ORDER_LIFECYCLE))
    # Latest updated_at wins; ties go to the later lifecycle status (DECISIONLOG "Staging").
    o = o.sort_values(["updated_ts", "rank"], kind="stable").drop_duplicates(
        "order_id", keep="last"
    )
    orders = o.loc[(o["status"] != "cancelled") & o["customer_id"].notna(), ["customer_id", "ts"]]
    return pd.concat([sales, orders], ignore_index=True)


def load_sendgrid(landing: Path) -> pd.DataFrame:
    s = read_feed(landing, "sendgrid")
    s["ts"] = pd.to_datetime(
        pd.to_numeric(s["timestamp"], errors="coerce"), unit="s", utc=True, errors="coerce"
    )
    valid = s["sg_event_id"].notna() & s["event"].isin(SENDGRID_EVENTS) & s["ts"].notna()
    s = s.loc[valid].drop_duplicates("sg_event_id", keep="first")  # webhook retries
    s["provider_message_id"] = s["sg_message_id"].str.split(".").str[0]
    return s


def load_twilio(landing: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    t = read_feed(landing, "twilio")
    t["ts"] = pd.to_datetime(
        t["date_updated"], utc=True, format="%a, %d %b %Y %H:%M:%S %z", errors="coerce"
    )
    valid = (
        t["sid"].notna()
        & t["direction"].isin(["outbound-api", "inbound"])
        & t["status"].isin(list(TWILIO_STATUS))
        & t["ts"].notna()
        & ok_number(t["num_segments"])
        & ok_number(t["price"])
    )
    t = t.loc[valid]
    t["final"] = t["status"].map(TWILIO_STATUS)
    t["prec"] = t["final"].map(PRECEDENCE).fillna(0)
    # The newest date_updated is the message's state; ties by final-status precedence.
    t = t.sort_values(["ts", "prec"], kind="stable").drop_duplicates("sid", keep="last")
    t = t.loc[t["direction"] == "outbound-api"]

    c = read_feed(landing, "twilio_clicks")
    c["ts"] = iso_ts(c["click_time"])
    c = c.loc[c["sms_sid"].notna() & (c["event_type"] == "click") & c["ts"].notna()]
    return t, c


def load_push(landing: Path) -> pd.DataFrame:
    p = read_feed(landing, "push")
    p["ts"] = iso_ts(p["occurred_at"])
    valid = (
        p["message_id"].notna()
        & p["event"].isin(["sent", "delivered", "opened", "failed"])
        & p["platform"].isin(["ios", "android", "web"])
        & p["ts"].notna()
    )
    # DECISIONLOG "Event replays": push has no id, (message_id, event, occurred_at) is the event.
    return p.loc[valid].drop_duplicates(["message_id", "event", "ts"])


def load_canonical(landing: Path) -> pd.DataFrame:
    e = read_feed(landing, "events")
    e["ts"] = iso_ts(e["occurred_at"])
    valid = (
        e["event_id"].notna()
        & e["provider"].notna()
        & e["channel"].isin(["email", "sms", "push"])
        & e["event_type"].isin(CANONICAL_EVENTS)
        & e["ts"].notna()
    )
    # feeds.md: event_id is unique per event within the provider; a repeat is a replay
    return e.loc[valid].drop_duplicates(["provider", "event_id"])


# ---------------------------------------------------------------------------------------------
# The recompute
# ---------------------------------------------------------------------------------------------


def volume(audience: pd.DataFrame, dispatches: pd.DataFrame, mailing: str) -> dict:
    a = audience.loc[audience["mailing_id"] == mailing]
    d = dispatches.loc[dispatches["mailing_id"] == mailing]
    counts = {s: int((a["status"] == s).sum()) for s in ELIGIBILITY}
    return {
        "audience_total": len(a),
        "good_recipients": counts["good"],  # control members included (DECISIONLOG "Volume")
        "address_issue": counts["address_issue"],
        "unsubscribed_channel": counts["unsubscribed_channel"],
        "unsubscribed_category": counts["unsubscribed_category"],
        "policy_blocked": counts["policy_blocked"],
        "control_group": int(((a["status"] == "good") & (a["group"] == "control")).sum()),
        "skipped": int((d["status"] == "skipped").sum()),
        "actual_recipients": d.loc[d["status"] == "sent", "customer_id"].nunique(),
    }


def window(mailings: pd.DataFrame, dispatches: pd.DataFrame, mailing: str):
    row = mailings.loc[mailing]
    start = row["sent_ts"]
    if pd.isna(start):  # DECISIONLOG "Window start = sent_at, else the first sent dispatch"
        d = dispatches.loc[(dispatches["mailing_id"] == mailing) & (dispatches["status"] == "sent")]
        start = d["dispatched_ts"].min()
    return start, start + pd.Timedelta(days=int(row["days"]))


def converted(clicks: pd.DataFrame, purchases: pd.DataFrame, start, end) -> int:
    """Clickers with a purchase strictly after their first click, inside the window."""
    first = clicks.groupby("customer_id")["ts"].min().rename("first_click").reset_index()
    p = purchases.merge(first, on="customer_id")
    hit = p.loc[(p["ts"] > p["first_click"]) & (p["ts"] >= start) & (p["ts"] < end)]
    return hit["customer_id"].nunique()


def email_funnel(sent: pd.DataFrame, sendgrid: pd.DataFrame, purchases, start, end) -> dict:
    ev = sendgrid.merge(
        sent.loc[sent["provider"] == "sendgrid", ["provider_message_id", "customer_id"]],
        on="provider_message_id",
        suffixes=("_arg", ""),
    )  # only events matched to a sent dispatch feed the funnel (DECISIONLOG)
    machine = ev["event"].eq("open") & ev["sg_machine_open"].eq(True)
    human_open = ev["event"].eq("open") & ~machine
    clicks = ev.loc[ev["event"] == "click"]
    # An open (machine ones too) or a click proves delivery; a click proves an open.
    delivered = set(ev.loc[ev["event"].isin(["delivered", "open", "click"]), "customer_id"])
    opened = set(ev.loc[human_open, "customer_id"]) | set(clicks["customer_id"])
    return {
        "sent": sent["customer_id"].nunique(),
        "delivered": len(delivered),
        "opened": len(opened),
        "clicked": clicks["customer_id"].nunique(),
        "converted": converted(clicks, purchases, start, end),
        "machine_opens": int(machine.sum()),
    }


def sms_messages(sent: pd.DataFrame, twilio: pd.DataFrame, clicks: pd.DataFrame) -> pd.DataFrame:
    """One row per sent Twilio message: customer_id, final status, error category."""
    msgs = sent.loc[sent["provider"] == "twilio", ["provider_message_id", "customer_id"]]
    msgs = msgs.merge(
        twilio[["sid", "final", "error_code"]],
        left_on="provider_message_id",
        right_on="sid",
        how="left",
    )
    msgs["final"] = msgs["final"].fillna("sent")  # no provider event at all: handed over
    clicked = msgs["provider_message_id"].isin(set(clicks["sms_sid"]))
    msgs.loc[clicked, "final"] = "delivered"  # a click proves delivery
    code = msgs["error_code"].astype("string").str.replace(r"\.0$", "", regex=True)
    msgs["category"] = code.map(SMS_ERROR_CATEGORY).fillna("other_error")
    msgs["clicked"] = clicked
    return msgs


@pytest.fixture(scope="module")
def recomputed(landing_zone: Path) -> dict:
    mailings = load_mailings(landing_zone)
    audience = load_audience(landing_zone)
    dispatches = load_dispatches(landing_zone)
    purchases = load_purchases(landing_zone)
    out: dict = {"volume": {}, "funnel": {}, "lift": {}, "windows": {}}
    for m in MAILINGS:
        out["volume"][m] = volume(audience, dispatches, m)
        start, end = window(mailings, dispatches, m)
        out["windows"][m] = (start, end)
        # Group lift: intent to treat, members = distinct good audience customers.
        good = audience.loc[(audience["mailing_id"] == m) & (audience["status"] == "good")]
        in_window = purchases.loc[(purchases["ts"] >= start) & (purchases["ts"] < end)]
        buyers = set(in_window["customer_id"])
        groups = {"treatment": good.loc[good["group"] == "treatment"]}
        groups["control"] = good.loc[good["group"] == "control"]
        for variant in sorted(good.loc[good["group"] == "treatment", "variant"].dropna().unique()):
            groups[variant] = groups["treatment"].loc[groups["treatment"]["variant"] == variant]
        lift = {}
        for grp, members in groups.items():
            ids = set(members["customer_id"])
            if grp == "control" and not ids:
                continue  # no control row without control members (DECISIONLOG)
            lift[grp] = {"members": len(ids), "buyers": len(ids & buyers)}
        out["lift"][m] = lift

    sent = dispatches.loc[dispatches["status"] == "sent"]
    start, end = out["windows"][EMAIL]
    out["funnel"][EMAIL] = email_funnel(
        sent.loc[sent["mailing_id"] == EMAIL], load_sendgrid(landing_zone), purchases, start, end
    )

    twilio, twilio_clicks = load_twilio(landing_zone)
    msgs = sms_messages(sent.loc[sent["mailing_id"] == SMS], twilio, twilio_clicks)
    clicks = twilio_clicks.merge(
        msgs[["provider_message_id", "customer_id"]],
        left_on="sms_sid",
        right_on="provider_message_id",
    )
    start, end = out["windows"][SMS]
    out["funnel"][SMS] = {
        "sent": msgs["customer_id"].nunique(),
        "delivered": msgs.loc[msgs["final"] == "delivered", "customer_id"].nunique(),
        "opened": None,  # SMS has no opens
        "clicked": clicks["customer_id"].nunique(),
        "converted": converted(clicks, purchases, start, end),
    }
    failed = msgs.loc[msgs["final"] == "failed", "category"]
    out["sms_delivery"] = {
        "messages": len(msgs),
        "delivered": int((msgs["final"] == "delivered").sum()),
        "sent_no_receipt": int((msgs["final"] == "sent").sum()),
        "queued": int((msgs["final"] == "queued").sum()),
        "undelivered": len(failed),
        "routing_error": int((failed == "routing_error").sum()),
        "expired": int((failed == "expired").sum()),
        "rejected": int((failed == "rejected").sum()),
        "other_error": int((failed == "other_error").sum()),
        "soft_bounces": int((failed == "expired").sum()),
        "hard_bounces": int(failed.isin(["routing_error", "rejected"]).sum()),
        "skipped": out["volume"][SMS]["skipped"],
    }

    push = load_push(landing_zone)
    psent = sent.loc[(sent["mailing_id"] == PUSH) & (sent["provider"] == "push")]
    ev = push.merge(
        psent[["provider_message_id", "customer_id"]],
        left_on="message_id",
        right_on="provider_message_id",
    )
    out["funnel"][PUSH] = {
        "sent": psent["customer_id"].nunique(),
        "delivered": ev.loc[ev["event"].isin(["delivered", "opened"]), "customer_id"].nunique(),
        "opened": ev.loc[ev["event"] == "opened", "customer_id"].nunique(),
        # The push feed has no click event (feeds.md), hence no clickers and no conversions;
        # push opens carry no machine flag.
        "clicked": 0,
        "converted": 0,
        "machine_opens": 0,
    }
    return out


def channel_daily(landing: Path, dispatches: pd.DataFrame) -> pd.DataFrame:
    """Per channel and Moscow date of dispatch: mailings, sent messages, delivered messages (any
    proof of delivery: a receipt, an open or a click) and distinct customers who clicked them."""
    sent = dispatches.loc[dispatches["status"] == "sent"].copy()
    sendgrid = load_sendgrid(landing)
    twilio, twilio_clicks = load_twilio(landing)
    push = load_push(landing)
    canonical = load_canonical(landing)

    def keyed(provider: str, ids: pd.Series) -> set:
        return {(provider, i) for i in ids.dropna()}

    delivered = (
        keyed(
            "sendgrid",
            sendgrid.loc[
                sendgrid["event"].isin(["delivered", "open", "click"]), "provider_message_id"
            ],
        )
        | keyed("twilio", twilio.loc[twilio["final"] == "delivered", "sid"])
        | keyed("twilio", twilio_clicks["sms_sid"])
        | keyed("push", push.loc[push["event"].isin(["delivered", "opened"]), "message_id"])
    )
    clicked = keyed("sendgrid", sendgrid.loc[sendgrid["event"] == "click", "provider_message_id"])
    clicked |= keyed("twilio", twilio_clicks["sms_sid"])
    proofs = canonical.loc[canonical["event_type"].isin(["delivered", "opened", "clicked"])]
    delivered |= set(zip(proofs["provider"], proofs["provider_message_id"], strict=True))
    clicks = canonical.loc[canonical["event_type"] == "clicked"]
    clicked |= set(zip(clicks["provider"], clicks["provider_message_id"], strict=True))

    keys = list(zip(sent["provider"], sent["provider_message_id"], strict=True))
    sent["delivered"] = [key in delivered for key in keys]
    sent["clicker"] = [
        c if key in clicked else None for key, c in zip(keys, sent["customer_id"], strict=True)
    ]
    sent["date"] = sent["dispatched_ts"].dt.tz_convert(REPORTING_TZ).dt.date
    daily = sent.groupby(["channel", "date"]).agg(
        mailings=("mailing_id", "nunique"),
        sent=("mailing_id", "size"),
        delivered=("delivered", "sum"),
        unique_clickers=("clicker", "nunique"),
    )
    return daily.astype(int)


EARLIEST_PLAUSIBLE = pd.Timestamp("2000-01-01", tz="UTC")


def load_holdout_periods(landing: Path) -> pd.DataFrame:
    """customer_id, valid_from, valid_to (UTC) of every global holdout period."""
    h = read_feed(landing, "holdouts")
    if h.empty:
        return pd.DataFrame(columns=["customer_id", "valid_from", "valid_to"])
    h["valid_from"] = iso_ts(h["valid_from"])
    h["valid_to"] = iso_ts(h["valid_to"])
    # feeds.md "Bad input": no e-mail or written phone number as an id, no date before 2000
    contact = h["customer_id"].str.contains("@", na=False) | h["customer_id"].str.match(
        r"^\+\d", na=False
    )
    valid = (
        h["customer_id"].notna()
        & ~contact
        & (h["holdout"] == "global")
        & (h["valid_from"] >= EARLIEST_PLAUSIBLE)
        & ok_ts(h["valid_to"], h["valid_to"], nullable=True)
        & ~(h["valid_to"] < EARLIEST_PLAUSIBLE)
        & ~(h["valid_to"] < h["valid_from"])
    )
    h = h.loc[valid]
    # One ingestion (the test's single run): of the exports of one period, a closed one replaces
    # an open one and the earliest valid_to wins (DECISIONLOG "Programme feeds").
    h = h.sort_values("valid_to", na_position="last", kind="stable")
    return h.drop_duplicates(["customer_id", "valid_from"], keep="first")


def global_holdout(landing: Path, mailings, audience, dispatches, purchases) -> dict:
    """(month, grp) -> members, buyers: holdout = held out at the month's first (Moscow)
    instant; messaged = other customers with a good audience row of a mailing sent that month."""
    periods = load_holdout_periods(landing)
    starts = {m: window(mailings, dispatches, m)[0] for m in mailings.index}
    month_of = {
        m: t.tz_convert(REPORTING_TZ).replace(tzinfo=None).to_period("M")
        for m, t in starts.items()
        if pd.notna(t)
    }
    good = audience.loc[audience["status"] == "good"]
    bought = purchases.assign(
        month=purchases["ts"].dt.tz_convert(REPORTING_TZ).dt.tz_localize(None).dt.to_period("M")
    )
    out = {}
    for month in sorted(set(month_of.values())):
        first = pd.Timestamp(month.start_time).tz_localize(REPORTING_TZ).tz_convert("UTC")
        covering = (periods["valid_from"] <= first) & (
            periods["valid_to"].isna() | (periods["valid_to"] > first)
        )
        held = set(periods.loc[covering, "customer_id"])
        mailed = [m for m, mm in month_of.items() if mm == month]
        messaged = set(good.loc[good["mailing_id"].isin(mailed), "customer_id"]) - held
        buyers = set(bought.loc[bought["month"] == month, "customer_id"])
        day = month.start_time.date()
        out[(day, "holdout")] = {"members": len(held), "buyers": len(held & buyers)}
        out[(day, "messaged")] = {"members": len(messaged), "buyers": len(messaged & buyers)}
    return out


@pytest.fixture(scope="module")
def published(pipeline_run):
    data_dir, result = pipeline_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    conn = duckdb.connect(str(data_dir / "reports.duckdb"), read_only=True)
    yield conn
    conn.close()


def one_row(conn, sql: str, params: list) -> dict:
    cur = conn.execute(sql, params)
    cols = [c[0] for c in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, (sql, params, rows)
    return dict(zip(cols, rows[0], strict=True))


# ---------------------------------------------------------------------------------------------
# The comparisons
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mailing", MAILINGS)
def test_mailing_volume(recomputed, published, mailing):
    row = one_row(published, "select * from mart_mailing_volume where mailing_id = ?", [mailing])
    expected = recomputed["volume"][mailing]
    assert {k: row[k] for k in expected} == expected
    parts = ("good_recipients", *ELIGIBILITY[1:])
    assert row["audience_total"] == sum(expected[k] for k in parts)


@pytest.mark.parametrize("mailing", MAILINGS)
def test_mailing_funnel_all_row(recomputed, published, mailing):
    row = one_row(
        published,
        "select * from mart_mailing_funnel where mailing_id = ? and variant = 'all'",
        [mailing],
    )
    expected = recomputed["funnel"][mailing]
    assert {k: row[k] for k in expected} == expected


def test_sms_delivery(recomputed, published):
    row = one_row(published, "select * from mart_sms_delivery where mailing_id = ?", [SMS])
    expected = recomputed["sms_delivery"]
    assert {k: row[k] for k in expected} == expected


@pytest.mark.parametrize("mailing", MAILINGS)
def test_group_lift(recomputed, published, mailing):
    rows = published.execute(
        "select grp, members, buyers, conversion from mart_group_lift where mailing_id = ?",
        [mailing],
    ).fetchall()
    got = {grp: {"members": m, "buyers": b} for grp, m, b, _ in rows}
    assert got == recomputed["lift"][mailing]
    for grp, members, buyers, conversion in rows:
        assert conversion == pytest.approx(buyers / members if members else None), grp


def test_channel_daily(landing_zone, published):
    expected = channel_daily(landing_zone, load_dispatches(landing_zone))
    got = (
        published.execute(
            "select channel, date, mailings, sent, delivered, unique_clickers "
            "from mart_channel_daily order by channel, date"
        )
        .df()
        .set_index(["channel", "date"])
    )
    got.index = got.index.set_levels(pd.to_datetime(got.index.levels[1]).date, level=1)
    assert len(expected) > 10  # three channels over several days
    pd.testing.assert_frame_equal(got.astype(int), expected, check_names=False)


def test_global_holdout(landing_zone, published):
    dispatches = load_dispatches(landing_zone)
    expected = global_holdout(
        landing_zone,
        load_mailings(landing_zone),
        load_audience(landing_zone),
        dispatches,
        load_purchases(landing_zone),
    )
    rows = published.execute(
        "select month, grp, members, buyers, conversion from mart_global_holdout"
    ).fetchall()
    got = {(month, grp): {"members": m, "buyers": b} for month, grp, m, b, _ in rows}
    assert got == expected
    assert any(v["members"] for (_, grp), v in expected.items() if grp == "messaged")
    for _, _, members, buyers, conversion in rows:
        assert conversion == pytest.approx(buyers / members if members else None)
