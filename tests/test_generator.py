"""The demo data generator: determinism, formats, accounting, bad input, realism."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from demo_data import generate
from demo_data.sms_text import segments
from ingestion import FEEDS

SCALE1 = {"scale": 1, "seed": 42, "start": dt.date(2026, 10, 1), "days": 30}

EXPECTED_FORMATS = {
    "campaigns": {"csv", "jsonl"},
    "mailings": {"csv", "jsonl"},
    "audience": {"csv", "csv.gz", "parquet"},
    "dispatches": {"csv", "csv.gz", "parquet"},
    "sendgrid": {"json", "ndjson", "json.gz"},
    "twilio": {"json", "ndjson", "csv"},
    "twilio_clicks": {"ndjson"},
    "push": {"ndjson"},
    "events": {"csv", "ndjson", "parquet"},
    "products": {"csv"},
    "receipts": {"csv", "csv.gz", "parquet"},
    "receipt_lines": {"csv", "csv.gz", "parquet"},
    "orders": {"ndjson", "jsonl"},
    "holdouts": {"csv"},
    "message_prices": {"csv"},
}
RFC2822 = (
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-2]\d|3[01]) \w{3} \d{4} "
    r"([01]\d|2[0-3])(:[0-5]\d){2} \+0000"
)
PROVIDER_FEEDS = ("sendgrid", "twilio", "twilio_clicks", "push", "events")


# ----------------------------------------------------------------------------- helpers
def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def read_file(path: Path, fmt: str) -> pd.DataFrame:
    """Every record of a landed file as strings (JSON scalars kept as parsed)."""
    if fmt in ("csv", "csv.gz"):
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if fmt == "parquet":
        return pq.read_table(path).to_pandas()
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if fmt.endswith(".gz") else raw).decode("utf-8")
    if fmt in ("json", "json.gz"):
        records = json.loads(text)
    else:
        records = []
        for line in text.splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                records.append({"_malformed": True})
    return pd.DataFrame.from_records(records)


def load(root: Path, manifest: dict, feed: str) -> pd.DataFrame:
    frames = [
        read_file(root / f["path"], f["format"]).assign(_file=f["path"])
        for f in manifest["feeds"][feed]["files"]
    ]
    return pd.concat(frames, ignore_index=True)


def missing(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype(str) == "")


def bad_iso(s: pd.Series) -> pd.Series:
    def bad(v: object) -> bool:
        if v is None or v == "" or (isinstance(v, float) and pd.isna(v)):
            return False
        try:
            dt.datetime.fromisoformat(str(v))
            return False
        except ValueError:
            return True

    return s.map(bad).astype(bool)


def implausible_ts(s: pd.Series) -> pd.Series:
    """ISO timestamps before 2000 or more than a year from now (feeds.md, "Bad input")."""

    def bad(v: object) -> bool:
        try:
            year = dt.datetime.fromisoformat(str(v)).year
        except ValueError:
            return False
        return year < 2000 or year > dt.date.today().year + 1

    return s.map(bad).astype(bool)


def implausible_amount(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").abs() > 1e12


def personal_data(s: pd.Series) -> pd.Series:
    """An e-mail address or a phone number written with its '+'."""
    text = s.astype(str)
    return text.str.contains("@") | text.str.startswith("+")


def not_in(s: pd.Series, allowed: set[str]) -> pd.Series:
    return ~missing(s) & ~s.astype(str).isin(allowed)


def malformed(df: pd.DataFrame) -> pd.Series:
    if "_malformed" not in df:
        return pd.Series(False, index=df.index)
    return df["_malformed"].fillna(False).astype(bool)


def non_numeric(s: pd.Series) -> pd.Series:
    return ~missing(s) & ~s.astype(str).str.fullmatch(r"-?\d+(\.\d+)?")


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("landing") / "a"
    return root, generate(root, **SCALE1)


@pytest.fixture(scope="module")
def feeds(base: tuple[Path, dict]) -> dict[str, pd.DataFrame]:
    root, manifest = base
    return {f: load(root, manifest, f) for f in EXPECTED_FORMATS}


# ----------------------------------------------------------------------------- tests
def test_same_seed_same_bytes_other_seed_differs(base: tuple[Path, dict], tmp_path: Path) -> None:
    root, manifest = base
    again = generate(tmp_path / "b", **SCALE1)
    assert again == manifest
    assert tree_hashes(tmp_path / "b") == tree_hashes(root)
    other = generate(tmp_path / "c", **{**SCALE1, "seed": 7})
    assert other["feeds"]["sendgrid"]["rows"] != manifest["feeds"]["sendgrid"]["rows"]
    shared = set(tree_hashes(root).items()) & set(tree_hashes(tmp_path / "c").items())
    assert len(shared) <= 1  # only the constant HTML error page, never the data


def test_rerun_replaces_only_its_own_files(tmp_path: Path) -> None:
    generate(tmp_path, **{**SCALE1, "days": 5})
    foreign = tmp_path / "receipts" / "from_a_store.csv"
    foreign.write_text("receipt_id\n")
    second = generate(tmp_path, **{**SCALE1, "days": 3})
    listed = {f["path"] for e in second["feeds"].values() for f in e["files"] + e["bad_files"]}
    on_disk = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert on_disk == listed | {"_generator_manifest.json", "receipts/from_a_store.csv"}


def test_landing_layout_and_formats(base: tuple[Path, dict]) -> None:
    root, manifest = base
    days = {(dt.date(2026, 10, 1) + dt.timedelta(d)).isoformat() for d in range(30)}
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    listed = {"_generator_manifest.json"}
    for feed, formats in EXPECTED_FORMATS.items():
        entry = manifest["feeds"][feed]
        assert entry["file_count"] == len(entry["files"]) > 0
        assert {f["format"] for f in entry["files"]} >= formats, feed
        for f in entry["files"] + entry["bad_files"]:
            feed_dir, day, name = f["path"].split("/")
            assert feed_dir == feed and day in days
            listed.add(f["path"])
        for f in entry["files"]:
            assert f["path"].endswith("." + f["format"])
    assert on_disk == listed
    assert json.loads((root / "_generator_manifest.json").read_text()) == manifest


def test_manifest_counts_match_files(base: tuple[Path, dict], feeds: dict) -> None:
    root, manifest = base
    for feed, entry in manifest["feeds"].items():
        df = feeds[feed]
        assert len(df) == entry["rows"], feed
        per_file = df.groupby("_file").size().to_dict()
        assert per_file == {f["path"]: f["rows"] for f in entry["files"]}, feed
        assert entry["rows"] == sum(f["rows"] for f in entry["files"])
        assert entry["replays"] == sum(f["replays"] for f in entry["files"])
        kinds = Counter()
        for f in entry["files"]:
            kinds.update(f["bad_rows"])
        assert dict(kinds) == entry["bad_rows"]
        # a handful of bad rows: a small minority
        assert sum(kinds.values()) < 0.05 * entry["rows"] + 30


def test_every_bad_row_kind_is_where_the_manifest_says(feeds: dict, base: tuple) -> None:
    _, manifest = base
    # the event names ingestion accepts (the rest are the generator's unknown_event_type rows)
    sg_events = set(FEEDS["sendgrid"].field("event").enum)
    twilio_status = {"queued", "sent", "delivered", "undelivered", "failed", "received"}
    checks = {
        "sendgrid": {
            "unknown_event_type": lambda d: not_in(d["event"], sg_events),
            "missing_required": lambda d: missing(d["sg_event_id"]) & ~malformed(d),
            "unparseable_timestamp": lambda d: d["timestamp"].map(lambda v: isinstance(v, str)),
            "malformed_json": malformed,
        },
        "twilio": {
            "unknown_event_type": lambda d: not_in(d["status"], twilio_status),
            "unknown_enum": lambda d: not_in(d["direction"], {"outbound-api", "inbound"}),
            "missing_required": lambda d: missing(d["sid"]) & ~malformed(d),
            "non_numeric": lambda d: non_numeric(d["num_segments"]) | non_numeric(d["price"]),
            "unparseable_timestamp": lambda d: (
                ~missing(d["date_updated"]) & ~d["date_updated"].astype(str).str.fullmatch(RFC2822)
            ),
            "malformed_json": malformed,
        },
        "dispatches": {
            "unknown_enum": lambda d: (
                not_in(d["channel"], {"email", "sms", "push"})
                | not_in(d["status"], {"sent", "skipped"})
            ),
            "missing_required": lambda d: missing(d["customer_id"]) | missing(d["mailing_id"]),
            "unparseable_timestamp": lambda d: bad_iso(d["dispatched_at"]),
        },
        "audience": {
            "unknown_enum": lambda d: (
                not_in(
                    d["status"],
                    {
                        "good",
                        "address_issue",
                        "unsubscribed_channel",
                        "unsubscribed_category",
                        "policy_blocked",
                    },
                )
                | not_in(d["group"], {"treatment", "control"})
            ),
            "missing_required": lambda d: missing(d["customer_id"]) | missing(d["mailing_id"]),
        },
        "receipts": {
            "currency": lambda d: not_in(d["currency"], {"RUB"}),
            "non_numeric": lambda d: non_numeric(d["total_amount"]),
            "unknown_enum": lambda d: not_in(d["type"], {"sale", "return"}),
            "missing_required": lambda d: missing(d["receipt_id"]),
            "unparseable_timestamp": lambda d: bad_iso(d["purchased_at"]),
            "implausible_amount": lambda d: implausible_amount(d["total_amount"]),
            "implausible_timestamp": lambda d: implausible_ts(d["purchased_at"]),
            "personal_data": lambda d: (
                personal_data(d["customer_id"]) | personal_data(d["store_id"])
            ),
        },
        "receipt_lines": {
            "non_numeric": lambda d: non_numeric(d["quantity"]) | non_numeric(d["amount"]),
            "missing_required": lambda d: missing(d["receipt_id"]),
            "implausible_amount": lambda d: implausible_amount(d["amount"]),
        },
        "orders": {
            "currency": lambda d: not_in(d["currency"], {"RUB"}),
            "non_numeric": lambda d: d["total_amount"].map(lambda v: isinstance(v, str)),
            "unknown_enum": lambda d: not_in(
                d["status"], {"placed", "paid", "shipped", "delivered", "cancelled", "returned"}
            ),
            "missing_required": lambda d: missing(d["order_id"]) & ~malformed(d),
            "unparseable_timestamp": lambda d: bad_iso(d["created_at"]) | bad_iso(d["updated_at"]),
            "malformed_json": malformed,
            "personal_data": lambda d: (
                personal_data(d["utm_source"]) | personal_data(d["utm_medium"])
            ),
        },
        "push": {
            "unknown_event_type": lambda d: not_in(
                d["event"], {"sent", "delivered", "opened", "failed"}
            ),
            "unknown_enum": lambda d: not_in(d["platform"], {"ios", "android", "web"}),
            "missing_required": lambda d: missing(d["message_id"]) & ~malformed(d),
            "unparseable_timestamp": lambda d: bad_iso(d["occurred_at"]),
            "malformed_json": malformed,
        },
        "holdouts": {
            "unparseable_timestamp": lambda d: bad_iso(d["valid_from"]) | bad_iso(d["valid_to"]),
            "implausible_timestamp": lambda d: implausible_ts(d["valid_from"]),
            "unknown_enum": lambda d: not_in(d["holdout"], {"global"}),
            "missing_required": lambda d: missing(d["customer_id"]) | missing(d["valid_from"]),
            "personal_data": lambda d: personal_data(d["customer_id"]),
            "period_order": lambda d: d["valid_to"].str.startswith("2001-"),
        },
        "message_prices": {
            "unknown_enum": lambda d: (
                not_in(d["unit"], {"message", "segment"})
                | not_in(d["channel"], {"email", "sms", "push"})
            ),
            "currency": lambda d: not_in(d["currency"], {"RUB"}),
            "non_numeric": lambda d: non_numeric(d["price"]),
            "too_many_decimals": lambda d: d["price"].str.fullmatch(r"\d+\.\d{7,}"),
            "negative_amount": lambda d: d["price"].str.startswith("-"),
        },
        "mailings": {
            "unknown_enum": lambda d: (
                not_in(d["channel"], {"email", "sms", "push"})
                | not_in(d["status"], {"draft", "scheduled", "sending", "sent", "cancelled"})
            ),
            "non_numeric": lambda d: non_numeric(d["attribution_window_days"]),
            "unparseable_timestamp": lambda d: bad_iso(d["sent_at"]),
            "missing_required": lambda d: missing(d["mailing_id"]),
        },
    }
    for feed, kinds in checks.items():
        df = feeds[feed]
        expected = manifest["feeds"][feed]["bad_rows"]
        assert set(expected) == set(kinds), feed
        for kind, predicate in kinds.items():
            got = int(predicate(df).sum())
            assert got == expected[kind] >= 3, (feed, kind, got, expected[kind])
    # every feed has bad rows of several kinds
    for feed, entry in manifest["feeds"].items():
        assert len(entry["bad_rows"]) >= 2, feed


def test_whole_bad_files(base: tuple[Path, dict]) -> None:
    root, manifest = base
    reasons = {}
    for feed, entry in manifest["feeds"].items():
        for f in entry["bad_files"]:
            reasons[f["reason"]] = (feed, root / f["path"], f)
    assert set(reasons) == {"truncated_gzip", "not_json", "missing_column"}
    _, path, _ = reasons["truncated_gzip"]
    with pytest.raises((EOFError, OSError)):
        gzip.decompress(path.read_bytes())
    _, path, _ = reasons["not_json"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(path.read_text())
    feed, path, info = reasons["missing_column"]
    header = path.read_text().splitlines()[0].split(",")
    assert feed == "dispatches" and info["missing_column"] == "dispatched_at"
    assert "dispatched_at" not in header and "provider_message_id" in header


def test_replays_are_exact_repeats(feeds: dict, base: tuple) -> None:
    root, manifest = base
    seen: dict[str, str] = {}
    n_replays = 0
    for f in manifest["feeds"]["sendgrid"]["files"]:
        raw = (root / f["path"]).read_bytes()
        text = (gzip.decompress(raw) if f["format"].endswith(".gz") else raw).decode()
        if f["format"] == "ndjson":
            lines = text.splitlines()
        else:
            lines = [ln.rstrip(",") for ln in text.splitlines()[1:-1]]
        for line in lines:
            try:
                event_id = json.loads(line).get("sg_event_id")
            except json.JSONDecodeError:
                continue
            if event_id in seen:
                assert seen[event_id] == line  # a byte-identical re-delivery
                n_replays += 1
            elif event_id:
                seen[event_id] = line
    assert n_replays == manifest["feeds"]["sendgrid"]["replays"] > 0
    # replayed SendGrid batches come in files of their own
    assert any(
        "retry" in f["path"] and f["replays"] for f in manifest["feeds"]["sendgrid"]["files"]
    )
    for feed in ("twilio", "push", "orders", "receipts", "receipt_lines", "audience"):
        df = feeds[feed]
        df = df[~malformed(df)].drop(columns="_file").astype(str)
        assert int(df.duplicated().sum()) == manifest["feeds"][feed]["replays"] > 0, feed


def test_scale_grows_linearly(base: tuple[Path, dict], tmp_path: Path) -> None:
    _, m1 = base
    m2 = generate(tmp_path / "x2", **{**SCALE1, "scale": 2})
    assert m2["generator"]["customers"] == 2 * m1["generator"]["customers"]
    for feed in ("audience", "dispatches", "sendgrid", "twilio", "push", "receipts", "orders"):
        ratio = m2["feeds"][feed]["rows"] / m1["feeds"][feed]["rows"]
        assert 1.7 < ratio < 2.4, (feed, ratio)
    events = sum(m1["feeds"][f]["rows"] for f in PROVIDER_FEEDS)
    assert 50_000 <= events <= 300_000


def test_personal_data_is_in_the_raw_files(feeds: dict) -> None:
    email = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    sg = feeds["sendgrid"]
    assert sg["email"].dropna().str.match(email).mean() > 0.99
    tw = feeds["twilio"]
    outbound = tw[tw["direction"] == "outbound-api"]
    assert outbound["to"].str.fullmatch(r"\+79\d{9}").all()
    inbound = tw[tw["direction"] == "inbound"]
    assert len(inbound) > 0 and inbound["body"].str.strip().str.upper().isin({"STOP"}).any()
    aud = feeds["audience"]
    addr = aud["address"].dropna().astype(str)
    assert addr.str.contains("@").sum() > 1000
    formatted = addr[addr.str.match(r"^\+7 \(\d{3}\) \d{3}-\d{2}-\d{2}$")]
    assert len(formatted) > 100
    # the same contact normalizes to the same E.164 across feeds
    e164 = set(outbound["to"])
    normalized = formatted.str.replace(r"[^\d+]", "", regex=True)
    assert normalized.isin(e164).mean() > 0.5
    from_formatted = inbound["from"][inbound["from"].str.contains(r"\(")]
    assert len(from_formatted) > 0
    assert from_formatted.str.replace(r"[^\d+]", "", regex=True).isin(e164).all()
    # some stored addresses need trimming/lower-casing to match the provider's form
    assert (addr.str.strip() != addr).any() and addr.str.contains(r"[A-Z]").any()


def test_messages_join_their_dispatches(feeds: dict) -> None:
    d = feeds["dispatches"]
    d = d[~missing(d["provider_message_id"])]
    by_provider = d.groupby("provider")["provider_message_id"].apply(set).to_dict()
    assert {"sendgrid", "twilio", "push", "mailgun", "smsc"} <= set(by_provider)
    sg = feeds["sendgrid"]
    sg = sg[~malformed(sg) & ~missing(sg["mailing_id"])]
    prefix = sg["sg_message_id"].str.split(".").str[0]
    assert prefix.isin(by_provider["sendgrid"]).all()
    tw = feeds["twilio"]
    out = tw[(tw["direction"] == "outbound-api") & ~missing(tw["sid"])]
    assert out["sid"].isin(by_provider["twilio"]).all()
    ev = feeds["events"]
    ev = ev[~malformed(ev) & ~missing(ev["provider_message_id"])]
    for provider in ("mailgun", "smsc"):
        ids = ev[ev["provider"] == provider]["provider_message_id"]
        assert len(ids) and ids.isin(by_provider[provider]).all()
    clicks = feeds["twilio_clicks"]
    clicks = clicks[~malformed(clicks) & ~missing(clicks["sms_sid"])]
    assert clicks["sms_sid"].isin(by_provider["twilio"]).all()
    # control members and non-good members never get a dispatch
    aud = feeds["audience"]
    excluded = {"address_issue", "unsubscribed_channel", "unsubscribed_category", "policy_blocked"}
    never = aud[(aud["group"] == "control") | aud["status"].isin(excluded)]
    keys = set(zip(d["mailing_id"], d["customer_id"], strict=True))
    assert not any(k in keys for k in zip(never["mailing_id"], never["customer_id"], strict=True))


def test_the_data_exercises_the_reports(feeds: dict, base: tuple) -> None:
    _, manifest = base
    sg = feeds["sendgrid"]
    assert set(sg["event"].dropna()) >= {
        "processed",
        "delivered",
        "deferred",
        "bounce",
        "dropped",
        "open",
        "click",
        "spamreport",
        "unsubscribe",
        "group_unsubscribe",
    }
    assert set(sg["type"].dropna()) == {"bounce", "blocked"}
    assert (sg["sg_machine_open"] == True).any()  # noqa: E712
    clicks = sg[sg["event"] == "click"]
    assert clicks["url"].str.contains("utm_").any() and clicks["url"].str.contains("#").any()
    tw = feeds["twilio"]
    assert {"30003", "30004", "30005", "30006", "30007", "30008", "21610", "21614", "39999"} <= set(
        tw["error_code"].dropna().astype(str).str.replace(".0", "", regex=False)
    )
    assert set(tw["status"]) >= {"queued", "sent", "delivered", "undelivered", "failed", "received"}
    assert missing(tw["num_segments"]).any()
    bodies = set(feeds["mailings"]["body"].dropna())
    assert any("€" in b or "{" in b for b in bodies)
    assert any(any(ord(ch) > 0xFFFF for ch in b) for b in bodies)
    d = feeds["dispatches"]
    reasons = {
        "SkippedNoContent",
        "SkippedHypersonalization",
        "FailedHypersonalization",
        "ContentTooLong",
        "RateLimitExceeded",
    }
    assert set(d.loc[d["channel"] == "sms", "skip_reason"].dropna()) - {""} == reasons
    aud = feeds["audience"]
    assert set(aud["variant"].dropna()) - {""} == {"A", "B"}
    statuses = {
        "good",
        "address_issue",
        "unsubscribed_channel",
        "unsubscribed_category",
        "policy_blocked",
    }
    clean = aud[aud["status"].isin(statuses) & ~missing(aud["mailing_id"])]
    assert (clean.groupby("mailing_id")["status"].nunique() == 5).all()
    control = aud[aud["group"] == "control"].groupby("mailing_id").size()
    assert 0 < len(control) < aud["mailing_id"].nunique()  # some mailings have no control group
    rec = feeds["receipts"]
    assert (rec["customer_id"].fillna("") == "").any() and (rec["type"] == "return").any()
    assert feeds["receipt_lines"]["quantity"].astype(str).str.contains(r"\.").any()
    orders = feeds["orders"]
    assert set(orders["status"].dropna()) >= {
        "placed",
        "paid",
        "shipped",
        "delivered",
        "cancelled",
        "returned",
    }
    mailing_ids = set(manifest["expected"]["mailings"])
    assert orders["utm_campaign"].isin(mailing_ids).any()
    assert feeds["products"]["category_name"].nunique() >= 55
    assert len(manifest["expected"]["receipt_total_mismatch"]) >= 3


def test_sms_segments() -> None:
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("€" * 80) == 1 and segments("{" * 81) == 2  # extension chars take two
    assert segments("Привет" * 11 + "ab") == 1 and segments("Ж" * 71) == 2
    assert segments("🎃" * 35) == 1 and segments("🎃" * 36) == 2  # emoji: two UTF-16 units


def test_treatment_buys_more_than_control(feeds: dict, base: tuple) -> None:
    _, manifest = base
    mail = feeds["mailings"]
    mail = mail[(mail["status"] == "sent") & ~bad_iso(mail["sent_at"]) & ~missing(mail["sent_at"])]
    mail = mail.drop_duplicates("mailing_id", keep="last")
    sent_at = {r.mailing_id: pd.Timestamp(r.sent_at).tz_convert("UTC") for r in mail.itertuples()}
    aud = feeds["audience"]
    aud = aud[(aud["status"] == "good") & aud["mailing_id"].isin(sent_at)].drop_duplicates(
        ["mailing_id", "customer_id"]
    )
    rec = feeds["receipts"]
    rec = rec[(rec["type"] == "sale") & (rec["currency"] == "RUB") & ~bad_iso(rec["purchased_at"])]
    buys = rec[["customer_id", "purchased_at"]].rename(columns={"purchased_at": "t"})
    orders = feeds["orders"]
    orders = orders[~malformed(orders) & ~bad_iso(orders["created_at"])]
    buys = pd.concat(
        [buys, orders[["customer_id", "created_at"]].rename(columns={"created_at": "t"})]
    )
    buys = buys[buys["customer_id"].fillna("") != ""]
    buys["t"] = buys["t"].map(
        lambda v: (
            pd.Timestamp(v).tz_convert("UTC")
            if pd.Timestamp(v).tzinfo
            else pd.Timestamp(v).tz_localize("UTC")
        )
    )
    merged = aud.merge(buys, on="customer_id", how="left")
    start = merged["mailing_id"].map(sent_at)
    inside = (merged["t"] >= start) & (merged["t"] < start + pd.Timedelta(days=7))
    merged["bought"] = inside.fillna(False)
    per_member = (
        merged.groupby(["mailing_id", "customer_id", "group"])["bought"].any().reset_index()
    )
    rate = per_member.groupby("group")["bought"].mean()
    assert rate["treatment"] > rate["control"] + 0.02, rate


def test_expected_volumes_match_the_files(feeds: dict, base: tuple) -> None:
    _, manifest = base
    statuses = [
        "good",
        "address_issue",
        "unsubscribed_channel",
        "unsubscribed_category",
        "policy_blocked",
    ]
    aud = feeds["audience"]
    aud = aud[~missing(aud["customer_id"]) & ~missing(aud["mailing_id"])]
    aud = aud.astype(str).drop(columns="_file").drop_duplicates()
    aud = aud[aud["status"].isin(statuses) & aud["group"].isin(["treatment", "control"])]
    d = feeds["dispatches"]
    d = d[~missing(d["customer_id"]) & ~missing(d["mailing_id"]) & ~bad_iso(d["dispatched_at"])]
    d = d.astype(str).drop(columns="_file").drop_duplicates()
    d = d[d["channel"].isin(["email", "sms", "push"]) & d["status"].isin(["sent", "skipped"])]
    for mailing_id, exp in manifest["expected"]["mailings"].items():
        a = aud[aud["mailing_id"] == mailing_id]
        assert len(a) == exp["audience_total"]
        counts = a["status"].value_counts()
        assert counts.get("good", 0) == exp["good_recipients"]
        for s in statuses[1:]:
            assert counts.get(s, 0) == exp[s]
        assert ((a["status"] == "good") & (a["group"] == "control")).sum() == exp["control_group"]
        dm = d[d["mailing_id"] == mailing_id]
        assert (dm["status"] == "skipped").sum() == exp["skipped"]
        assert dm.loc[dm["status"] == "sent", "customer_id"].nunique() == exp["actual_recipients"]


def test_global_holdout_is_kept_out_of_every_audience(feeds: dict, base: tuple) -> None:
    """5 % of the contactable customers, drawn at random before the period; a mid-period
    refresh closes some periods in a later export and opens new ones; no audience of a mailing
    holds a customer while they are held out."""
    _, manifest = base
    h = feeds["holdouts"]
    h = h[h["_bad"].isna()] if "_bad" in h else h
    good = h[
        (h["holdout"] == "global")
        & ~missing(h["customer_id"])
        & ~personal_data(h["customer_id"])
        & ~bad_iso(h["valid_from"])
        & ~bad_iso(h["valid_to"])
        & ~missing(h["valid_from"])
        & ~implausible_ts(h["valid_from"])
        & ~h["valid_to"].str.startswith("2001-")
    ].drop_duplicates(["customer_id", "holdout", "valid_from", "valid_to"])
    files = sorted(good["_file"].unique())
    assert len(files) == 2  # the first export, and the refresh's changes
    first, later = good[good["_file"] == files[0]], good[good["_file"] == files[1]]
    assert missing(first["valid_to"]).all()
    contactable = manifest["generator"]["customers"] * 0.95
    assert 0.04 < len(first) / contactable < 0.06
    closed = later[~missing(later["valid_to"])]
    assert len(closed) > 10 and closed["customer_id"].isin(first["customer_id"]).all()
    joined = later[missing(later["valid_to"])]
    assert len(joined) > 10 and not joined["customer_id"].isin(first["customer_id"]).any()

    # the latest export of each period, as int_global_holdout_periods reads them
    periods = pd.concat([first[~first["customer_id"].isin(closed["customer_id"])], later])
    start = pd.to_datetime(periods["valid_from"], utc=True, format="ISO8601")
    end = pd.to_datetime(periods["valid_to"].replace("", None), utc=True, format="ISO8601")
    mailings = feeds["mailings"].dropna(subset=["sent_at"])
    mailings = mailings[~bad_iso(mailings["sent_at"])].drop_duplicates("mailing_id", keep="last")
    aud = feeds["audience"]
    checked = 0
    for mailing_id, sent_at in zip(mailings["mailing_id"], mailings["sent_at"], strict=True):
        t = pd.Timestamp(sent_at).tz_convert("UTC")
        held = set(periods["customer_id"][(start <= t) & (end.isna() | (t < end))])
        members = set(aud["customer_id"][aud["mailing_id"] == mailing_id])
        if members:
            checked += 1
            assert not held & members, mailing_id
    assert checked > 5
    # ... while most of them would have been drawn without the holdout
    assert len(set(closed["customer_id"]) & set(aud["customer_id"])) > 0


def test_message_prices_change_once_per_channel_and_provider(feeds: dict) -> None:
    p = feeds["message_prices"]
    good = p[
        p["unit"].isin({"message", "segment"})
        & p["channel"].isin({"email", "sms", "push"})
        & (p["currency"] == "RUB")
        & p["price"].str.fullmatch(r"\d+(\.\d{1,6})?")
    ]
    d = feeds["dispatches"]
    used = set(zip(d["channel"], d["provider"], strict=True)) - {(None, None)}
    rows = good.groupby(["channel", "provider"])
    assert set(rows.groups) >= {k for k in used if k[0] in ("email", "sms", "push")}
    for (channel, _provider), prices in rows:
        assert len(prices) == 2  # valid before the period, then one change inside it
        assert set(prices["unit"]) == {"segment" if channel == "sms" else "message"}
        assert prices["price"].nunique() == 2
        assert prices["valid_from"].nunique() == 2
    # a price per segment with more than 2 decimals exists (6 are kept)
    assert good["price"].str.fullmatch(r"\d+\.\d{3,6}").any()


def test_email_domains_have_a_long_tail(feeds: dict) -> None:
    """A few large mailbox providers, many small company domains."""
    sg = feeds["sendgrid"]
    emails = sg["email"].dropna().astype(str).str.strip().str.lower()
    domains = emails.str.split("@").str[-1]
    per_domain = domains.groupby(emails.values).first().value_counts()  # recipients per domain
    big = {"mail.ru", "yandex.ru", "gmail.com", "icloud.com"}
    assert big <= set(per_domain.index[:8])
    assert len(per_domain) > 60
    assert (per_domain < 50).sum() > 40  # the long tail that mart_email_domains folds into other
    assert per_domain[~per_domain.index.isin(big)].max() >= 50  # and a company above it
