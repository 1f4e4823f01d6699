"""The programme feeds: the global holdout (control group) and the message price list.

Holdout: the platform draws 5 % of the contactable customers at random, some weeks before the
period, and keeps them out of every audience while they are held out. Mid-period it refreshes
the group: a fifth of the members leave (a later export closes their period with ``valid_to``)
and as many new ones are drawn (open periods from that moment). The first export lands on the
first day with every open period; the refresh export lands on the refresh day with the changes
only (the closed periods again, now with ``valid_to``, and the new ones).

Prices: one price per channel and provider of the plan, in the installation currency (SMS per
segment, e-mail and push per message), valid from before the period; each changes once, on a day
inside the period, announced by an export that lands a few days before it applies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import timefmt as tf
from .campaigns import Plan
from .period import DAY, HOUR, MINUTE, Period
from .rng import stream
from .sink import Sink
from .strings import const, nullify, sarr
from .world import World

NEVER = np.iinfo(np.int64).max
MOSCOW = 180  # minutes east of UTC: the platform writes Moscow time

HOLDOUT_SHARE = 0.05  # of the contactable customers
HOLDOUT_LEAVE_SHARE = 0.2  # of the members, at the mid-period refresh
HOLDOUT_DRAWN_DAYS_BEFORE = 40

# channel, provider -> (unit, price in the installation currency before the change)
BASE_PRICES = {
    ("email", "sendgrid"): ("message", 0.12),
    ("email", "mailgun"): ("message", 0.095),
    ("sms", "twilio"): ("segment", 2.35),
    ("sms", "smsc"): ("segment", 1.87),
    ("push", "push"): ("message", 0.015),
}
OTHER_PRICE = ("message", 0.1)  # a provider the table does not know
PRICE_DECIMALS = 4
PRICES_VALID_DAYS_BEFORE = 60


@dataclass
class Holdout:
    """Per customer: when the held-out period starts and ends (NEVER: no period / still open)."""

    start_t: np.ndarray
    end_t: np.ndarray
    drawn_t: int  # the first draw
    refresh_t: int  # leavers' valid_to, joiners' valid_from

    def held_out(self, t: int) -> np.ndarray:
        """Customers held out at ``t`` (the period is ``[valid_from, valid_to)``)."""
        return (self.start_t <= t) & (t < self.end_t)


def draw_holdout(seed: int, world: World, period: Period) -> Holdout:
    rng = stream(seed, "holdout")
    c = world.customers
    contactable = np.flatnonzero(c.has_email | c.has_phone | (c.platform >= 0))
    k = int(round(HOLDOUT_SHARE * len(contactable)))
    members = rng.choice(contactable, size=k, replace=False)
    leavers = members[rng.random(k) < HOLDOUT_LEAVE_SHARE]
    others = np.setdiff1d(contactable, members)
    joiners = rng.choice(others, size=min(len(leavers), len(others)), replace=False)

    drawn_t = period.start_t - HOLDOUT_DRAWN_DAYS_BEFORE * DAY - MOSCOW * MINUTE  # 00:00 Moscow
    refresh_day = max(1, period.days // 2)
    refresh_t = period.day_t(refresh_day) + 6 * HOUR + int(rng.integers(0, 60)) * MINUTE
    start = np.full(c.n, NEVER, dtype=np.int64)
    end = np.full(c.n, NEVER, dtype=np.int64)
    start[members] = drawn_t
    end[leavers] = refresh_t
    start[joiners] = refresh_t
    return Holdout(start, end, drawn_t, refresh_t)


def write_holdouts(sink: Sink, world: World, holdout: Holdout, period: Period, seed: int) -> None:
    rng = stream(seed, "holdout-exports")
    first = np.flatnonzero(holdout.start_t == holdout.drawn_t)
    t_first = period.start_t + 3 * HOUR + int(rng.integers(0, 60)) * MINUTE
    _add_holdout_rows(sink, world, holdout, first, np.full(len(first), NEVER), t_first, rng)
    closed = np.flatnonzero(holdout.end_t == holdout.refresh_t)
    joined = np.flatnonzero(holdout.start_t == holdout.refresh_t)
    changes = np.concatenate([closed, joined])
    ends = np.concatenate([holdout.end_t[closed], np.full(len(joined), NEVER)])
    t_refresh = holdout.refresh_t + 30 * MINUTE + int(rng.integers(0, 60)) * MINUTE
    _add_holdout_rows(sink, world, holdout, changes, ends, t_refresh, rng)


def _add_holdout_rows(
    sink: Sink,
    world: World,
    holdout: Holdout,
    cust: np.ndarray,
    end_t: np.ndarray,
    arrival: int,
    rng: np.random.Generator,
) -> None:
    n = len(cust)
    modes = tf.pick_modes(rng, n, 0.1, 0.0)
    open_ = end_t == NEVER
    cols = {
        "customer_id": world.customers.customer_id.take(pa.array(cust)),
        "holdout": const("global", n),
        "valid_from": tf.iso(holdout.start_t[cust], MOSCOW, modes),
        "valid_to": nullify(tf.iso(np.where(open_, 0, end_t), MOSCOW, modes), open_),
    }
    sink.add("holdouts", cols, np.full(n, arrival), group="")


def price_list(plan: Plan) -> list[tuple[str, str, str, float]]:
    """(channel, provider, unit, price before the change) of every provider of the plan."""
    pairs = sorted({(m.channel, p) for m in plan.mailings for p, _ in m.providers})
    return [(ch, p, *BASE_PRICES.get((ch, p), OTHER_PRICE)) for ch, p in pairs]


def write_message_prices(sink: Sink, plan: Plan, period: Period, seed: int) -> None:
    rng = stream(seed, "message-prices")
    prices = price_list(plan)
    n = len(prices)
    first_from = period.start_t - PRICES_VALID_DAYS_BEFORE * DAY - MOSCOW * MINUTE
    before = np.array([p[3] for p in prices])
    after = np.round(before * (1 + rng.uniform(0.03, 0.12, n)), PRICE_DECIMALS)
    change_day = rng.integers(max(1, period.days // 4), max(2, 3 * period.days // 4), n)
    change_t = np.array([period.day_t(int(d)) for d in change_day]) - MOSCOW * MINUTE
    notice = np.maximum(change_t - rng.integers(2, 6, n) * DAY, period.start_t + 4 * HOUR)

    def rows(price: np.ndarray, valid_from: np.ndarray) -> dict:
        return {
            "channel": sarr([p[0] for p in prices]),
            "provider": sarr([p[1] for p in prices]),
            "unit": sarr([p[2] for p in prices]),
            "price": sarr([_price_text(v) for v in price]),
            "currency": const("RUB", n),
            "valid_from": tf.iso(valid_from, MOSCOW),
        }

    sink.add(
        "message_prices",
        rows(before, np.full(n, first_from)),
        np.full(n, period.start_t + 2 * HOUR),
        group="",
    )
    sink.add("message_prices", rows(after, change_t), notice, group="")


def _price_text(value: float) -> str:
    """'2.35', '0.1234': up to PRICE_DECIMALS decimals, no trailing zeros."""
    return f"{value:.{PRICE_DECIMALS}f}".rstrip("0").rstrip(".")
