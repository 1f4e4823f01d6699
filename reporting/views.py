"""What a campaign page shows: formatted figures, charts and tables, from the marts' rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from reporting import charts
from reporting import formatting as f
from reporting.data import CampaignReport, MailingReport, Row


@dataclass
class Figure:
    label: str
    value: str
    note: str = ""
    key: str = ""  # data-figure attribute: the mart column the value comes from (tests read it)


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    numeric_from: int = 1  # columns from this index on are right-aligned numbers


@dataclass
class Section:
    title: str
    text: str = ""
    figures: list[Figure] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    tables: list[tuple[str, Table]] = field(default_factory=list)


@dataclass
class MailingView:
    mailing_id: str
    title: str  # the mailing's name, or its id when the export gave none
    channel: str
    subtitle: str
    sections: list[Section]


@dataclass
class CampaignView:
    campaign_id: str
    name: str
    subtitle: str
    headline: list[Figure]
    channels: Table
    mailings: list[MailingView]


def _i(value: object) -> float:
    return float(value or 0)


def campaign_view(report: CampaignReport, currency: str) -> CampaignView:
    money = partial(f.money, currency=currency)
    c, h = report.campaign, report.headline
    headline = [
        Figure("Mailings", f.count(h.get("mailings")), key="mailings"),
        Figure("Messages sent", f.count(h.get("sent")), key="sent"),
        Figure("Delivered", f.count(h.get("delivered")), key="delivered"),
        Figure("Unique clickers", f.count(h.get("unique_clickers")), key="unique_clickers"),
        Figure(
            "Click-to-delivered",
            f.percent(h.get("click_to_delivered_rate")),
            key="click_to_delivered_rate",
        ),
        Figure("Direct orders", f.count(h.get("direct_purchases")), key="direct_purchases"),
        Figure("Assisted orders", f.count(h.get("assisted_purchases")), key="assisted_purchases"),
        Figure("Direct revenue", money(h.get("direct_revenue")), key="direct_revenue"),
        Figure("Assisted revenue", money(h.get("assisted_revenue")), key="assisted_revenue"),
        Figure("Unsubscribes", f.count(h.get("unsubscribes")), key="unsubscribes"),
    ]
    channels = Table(
        [
            "Channel",
            "Mailings",
            "Sent",
            "Delivered",
            "Segments",
            "Unique clickers",
            "Clicks",
            "Direct orders",
            "Direct revenue",
            "Assisted revenue",
            "Unsubscribes",
        ],
        [
            [
                str(row["channel"]),
                f.count(row["mailings"]),
                f.count(row["sent"]),
                f.count(row["delivered"]),
                f.count(row["segments"]),
                f.count(row["unique_clickers"]),
                f.count(row["total_clicks"]),
                f.count(row["direct_purchases"]),
                money(row["direct_revenue"]),
                money(row["assisted_revenue"]),
                f.count(row["unsubscribes"]),
            ]
            for row in report.summary
        ],
    )
    sent = f"sent {f.when(c.get('first_sent_at'))} to {f.when(c.get('last_sent_at'))}"
    subtitle = (
        f"{c.get('type') or 'campaign'} · {c.get('status') or ''} · {c.get('channels') or ''}"
    )
    return CampaignView(
        campaign_id=report.campaign_id,
        name=str(c.get("name") or report.campaign_id),
        subtitle=f"{subtitle} · {sent}" if c.get("first_sent_at") else subtitle,
        headline=headline,
        channels=channels,
        mailings=[mailing_view(m, currency) for m in report.mailings],
    )


def mailing_view(m: MailingReport, currency: str) -> MailingView:
    sections = [
        _volume(m),
        _funnel(m),
        _orders(m, currency),
        _opens_by_hour(m),
        _links(m),
        _groups(m, currency),
        _categories(m, currency),
        _sms(m),
        _unsubscribes(m),
    ]
    subtitle = f"{m.channel}" + (f" · first day {f.when(m.first_day)}" if m.first_day else "")
    subtitle = f"{m.mailing_id} · {subtitle}" if m.mailing_name else subtitle
    title = m.mailing_name or f"Mailing {m.mailing_id}"
    return MailingView(
        m.mailing_id, title, m.channel, subtitle, [s for s in sections if s is not None]
    )


def _volume(m: MailingReport) -> Section:
    v = m.volume
    actual, skipped, control = _i(v["actual_recipients"]), _i(v["skipped"]), _i(v["control_group"])
    not_sent = max(_i(v["good_recipients"]) - actual - skipped - control, 0)
    segments = [
        ("Actual recipients", actual),
        ("Skipped", skipped),
        ("Control group", control),
        ("Eligible, not sent", not_sent),
        ("Address issue", _i(v["address_issue"])),
        ("Unsubscribed from channel", _i(v["unsubscribed_channel"])),
        ("Unsubscribed from category", _i(v["unsubscribed_category"])),
        ("Blocked by policy", _i(v["policy_blocked"])),
    ]
    section = Section(
        "Mailing volume",
        text=f"Audience {f.count(v['audience_total'])}, of whom "
        f"{f.count(v['good_recipients'])} eligible (good recipients).",
        figures=[
            Figure("Audience", f.count(v["audience_total"]), key="audience_total"),
            Figure("Eligible", f.count(v["good_recipients"]), key="good_recipients"),
            Figure("Actual recipients", f.count(actual), key="actual_recipients"),
        ],
    )
    if any(value for _, value in segments):
        section.charts.append(charts.stacked_bar(segments, f.count, "Mailing volume breakdown"))
    else:
        section.text = "No audience or dispatch recorded for this mailing yet."
    return section


def _funnel(m: MailingReport) -> Section | None:
    r = m.funnel
    if r is None:
        return None
    stages: list[tuple[str, object, object, str]] = [
        ("Sent", r["sent"], None, ""),
        ("Delivered", r["delivered"], r["delivery_rate"], "of sent"),
    ]
    if r["opened"] is not None:  # SMS has no opens
        stages.append(("Opened", r["opened"], r["open_rate"], "of delivered"))
        stages.append(("Clicked", r["clicked"], r["click_to_open_rate"], "of openers"))
    else:
        stages.append(("Clicked", r["clicked"], r["click_rate"], "of delivered"))
    stages.append(("Converted", r["converted"], r["conversion_rate"], "of clickers"))
    rows = [
        (name, _i(value), f"{f.percent(rate)} {what}" if what else "")
        for name, value, rate, what in stages
    ]
    text = "Distinct customers at each stage; each stage is a subset of the one before."
    if r.get("machine_opens"):
        text += f" {f.count(r['machine_opens'])} machine opens (privacy proxies) are not counted."
    variants = Table(
        [
            "Variant",
            "Sent",
            "Delivered",
            "Opened",
            "Clicked",
            "Converted",
            "Open rate",
            "Click rate",
            "Conversion",
        ],
        [
            [
                str(v["variant"]),
                f.count(v["sent"]),
                f.count(v["delivered"]),
                f.count(v["opened"]),
                f.count(v["clicked"]),
                f.count(v["converted"]),
                f.percent(v["open_rate"]),
                f.percent(v["click_rate"]),
                f.percent(v["conversion_rate"]),
            ]
            for v in m.variants
        ],
    )
    return Section(
        "Efficiency funnel",
        text=text,
        charts=[charts.horizontal_bars(rows, f.count, "Efficiency funnel")],
        tables=[("By variant", variants)] if len(m.variants) > 1 else [],
    )


def _orders(m: MailingReport, currency: str) -> Section | None:
    if not m.daily:
        return None
    days = [str(row["date"])[5:] for row in m.daily]  # MM-DD
    every = max(1, len(days) // 12)
    purchases = [_i(row["purchases"]) for row in m.daily]
    revenue = [_i(row["revenue"]) for row in m.daily]
    money = partial(f.money, currency=currency)
    section = Section(
        "Orders and revenue per day",
        text=f"Recipients' purchases inside the attribution window: {f.count(sum(purchases))} "
        f"orders, {money(sum(revenue))}.",
    )
    if any(purchases):
        section.charts.append(
            charts.columns(days, purchases, f.count, "Orders per day", label_every=every)
        )
    if any(revenue):
        section.charts.append(
            charts.columns(
                days, revenue, money, "Revenue per day", color=charts.PALETTE[2], label_every=every
            )
        )
    return section


def _opens_by_hour(m: MailingReport) -> Section | None:
    if m.channel != "email" or not any(_i(row["opens"]) for row in m.opens_by_hour):
        return None
    hours = [f"{int(row['hour']):02d}" for row in m.opens_by_hour]
    opens = [_i(row["opens"]) for row in m.opens_by_hour]
    peak = max(m.opens_by_hour, key=lambda row: _i(row["opens"]))
    return Section(
        "E-mail opens by hour",
        text=f"Most opens at {int(peak['hour']):02d}:00 "
        f"({f.percent(peak['share_of_opens'])} of opens), reporting time zone.",
        charts=[charts.columns(hours, opens, f.count, "Opens by hour", color=charts.PALETTE[4])],
    )


def _links(m: MailingReport) -> Section | None:
    if not m.links:
        return None
    rows = [
        (str(r["link"]), _i(r["unique_clickers"]), f.percent(r["share_of_openers"]))
        for r in m.links
    ]
    s = m.links_summary or {}
    base = "openers" if m.channel == "email" else "delivered"
    return Section(
        "Link clicks (top 10 links)",
        text=f"Unique clickers per link, and their share of {base}.",
        figures=[
            Figure("Total clicks", f.count(s.get("total_clicks"))),
            Figure("Links clicked", f.count(s.get("links_clicked"))),
            Figure("Clicks per delivered", f"{_i(s.get('clicks_per_delivered')):.3f}"),
        ],
        charts=[charts.horizontal_bars(rows, f.count, "Top links", color=charts.PALETTE[1])],
    )


def _groups(m: MailingReport, currency: str) -> Section | None:
    if not m.groups:
        return None
    money = partial(f.money, currency=currency)
    has_control = any(g["grp"] == "control" for g in m.groups)
    table = Table(
        [
            "Group",
            "Members",
            "Buyers",
            "Conversion",
            "Revenue",
            "Revenue per member",
            "Lift vs control",
            "95 % interval",
            "Incremental revenue",
            "Test",
        ],
        [
            [
                str(g["grp"]),
                f.count(g["members"]),
                f.count(g["buyers"]),
                f.percent(g["conversion"], 2),
                money(g["revenue"]),
                money(g["revenue_per_member"], cents=True),
                f.points(g["lift_abs"]),
                f"{f.points(g['lift_ci_low'])} to {f.points(g['lift_ci_high'])}"
                if g["lift_ci_low"] is not None
                else f.DASH,
                money(g["incremental_revenue"]),
                "reference"
                if g["grp"] == "control"
                else f.p_value_in_words(g["p_value"], g["lift_abs"]),
            ]
            for g in m.groups
        ],
    )
    section = Section(
        "Control group and variants",
        text="Conversion (buyers / members, intent to treat) of each group compared with the "
        "control group: the difference with its 95 % interval; an interval that crosses zero "
        "is no evidence of an effect."
        if has_control
        else "This mailing has no control group: groups are shown without lift.",
        tables=[("", table)],
    )
    compared = [
        (str(g["grp"]), g["lift_abs"], g["lift_ci_low"], g["lift_ci_high"])
        for g in m.groups
        if g["grp"] != "control" and g["lift_abs"] is not None
    ]
    if compared:
        section.charts.append(
            charts.intervals(
                compared, f.points, "Lift versus control", axis_fmt=lambda v: f"{v * 100:+g} pp"
            )
        )
    if m.variant_tests:
        section.tables.append(
            (
                "Variant against variant",
                Table(
                    [
                        "Variants",
                        "Conversion A",
                        "Conversion B",
                        "B − A",
                        "95 % interval",
                        "P(B beats A)",
                        "Test",
                    ],
                    [
                        [
                            f"{t['variant_a']} vs {t['variant_b']}",
                            f.percent(t["conversion_a"], 2),
                            f.percent(t["conversion_b"], 2),
                            f.points(t["diff"]),
                            f"{f.points(t['diff_ci_low'])} to {f.points(t['diff_ci_high'])}",
                            f.percent(t["prob_b_beats_a"]),
                            _variant_words(t),
                        ]
                        for t in m.variant_tests
                    ],
                ),
            )
        )
    return section


def _variant_words(test: Row) -> str:
    p_value = test.get("p_value")
    if p_value is None:
        return "not tested"
    if p_value >= 0.05:
        return f"no significant difference (p = {p_value:.2f})"
    return f"{test.get('winner')} converts better (p = {p_value:.3f})"


def _categories(m: MailingReport, currency: str) -> Section | None:
    if not m.categories:
        return None
    money = partial(f.money, currency=currency)
    tables = [
        (
            f"Group: {grp}",
            Table(
                ["#", "Category", "Units", "Revenue", "Receipts"],
                [
                    [
                        str(r["rank"]),
                        str(r["category_name"]),
                        f.count(r["units"]),
                        money(r["revenue"]),
                        f.count(r["receipts"]),
                    ]
                    for r in rows
                ],
                numeric_from=2,
            ),
        )
        for grp, rows in m.categories.items()
    ]
    return Section(
        "Top 25 product categories",
        text="By units sold among each group's purchases inside the window.",
        tables=tables,
    )


def _sms(m: MailingReport) -> Section | None:
    d = m.sms_delivery
    if d is None:
        return None
    segments = [
        ("Delivered", _i(d["delivered"])),
        ("Sent, no receipt", _i(d["sent_no_receipt"])),
        ("Queued", _i(d["queued"])),
        ("Routing error (hard)", _i(d["routing_error"])),
        ("Rejected (hard)", _i(d["rejected"])),
        ("Expired (soft)", _i(d["expired"])),
        ("Other error", _i(d["other_error"])),
    ]
    section = Section(
        "SMS delivery",
        figures=[
            Figure("Messages", f.count(d["messages"]), key="messages"),
            Figure("Segments", f.count(d["segments"]), key="segments"),
            Figure("Delivered", f.count(d["delivered"])),
            Figure("Soft bounces", f.count(d["soft_bounces"])),
            Figure("Hard bounces", f.count(d["hard_bounces"])),
            Figure("Skipped", f.count(d["skipped"])),
        ],
    )
    if any(value for _, value in segments):
        section.charts.append(charts.stacked_bar(segments, f.count, "SMS delivery"))
    if m.skip_reasons:
        reasons = [
            (str(r["skip_reason"]), _i(r["contacts"]), f.percent(r["share_of_skipped"]))
            for r in m.skip_reasons
        ]
        section.text = "The delivery state of every sent message, then skipped contacts by reason."
        section.charts.append(
            charts.horizontal_bars(reasons, f.count, "Skip reasons", color=charts.PALETTE[3])
        )
    return section


def _unsubscribes(m: MailingReport) -> Section | None:
    r = m.funnel
    if r is None:
        return None
    return Section(
        "Unsubscribes and spam complaints",
        text="Over delivered messages; unsubscribes without a message id go to the last mailing "
        "of the channel sent to that contact before.",
        figures=[
            Figure("Unsubscribed", f.count(r["unsubscribed"]), f.percent(r["unsubscribe_rate"], 2)),
            Figure("Spam complaints", f.count(r["spam_complaints"]), f.percent(r["spam_rate"], 2)),
        ],
    )
