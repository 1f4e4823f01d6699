"""Purchases: a baseline for everyone, plus the extra purchases mailings cause (treatment
members who got the message buy more inside the window than the control group; clickers buy
more still). Written as POS receipts + lines and as web orders with status snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import timefmt as tf
from .campaigns import Mailing, Plan
from .outcome import Outcome
from .period import DAY, HOUR, MINUTE, Period
from .rng import choice_idx, stream
from .sink import Sink
from .strings import concat, const, decimal3, ints, money, nullify, take, where
from .world import World

# local opening hours profile of stores (weights for 0..23)
STORE_HOURS = np.array(
    [
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0.1,
        0.4,
        0.8,
        1.0,
        1.1,
        1.3,
        1.3,
        1.1,
        1.1,
        1.3,
        1.7,
        2.2,
        2.3,
        1.9,
        1.3,
        0.6,
        0.1,
    ]
)
WEB_HOURS = np.array(
    [
        0.4,
        0.2,
        0.1,
        0.1,
        0.1,
        0.2,
        0.4,
        0.8,
        1.0,
        1.1,
        1.2,
        1.2,
        1.3,
        1.3,
        1.2,
        1.2,
        1.3,
        1.5,
        1.8,
        2.1,
        2.3,
        2.2,
        1.6,
        0.9,
    ]
)
UTM_SOURCE = {"email": "newsletter", "sms": "sms", "push": "push"}


@dataclass
class Purchases:
    cust: np.ndarray  # -1 for anonymous
    t: np.ndarray  # epoch s (UTC)
    online: np.ndarray  # bool
    utm: np.ndarray  # -1 or index into the plan's mailings
    promo: np.ndarray  # -1 or category to put in the basket

    @classmethod
    def concat(cls, parts: list[Purchases]) -> Purchases:
        if not parts:
            z = np.zeros(0, np.int64)
            return cls(z, z, z.astype(bool), z, z)
        return cls(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__)
        )

    def select(self, mask: np.ndarray) -> Purchases:
        return Purchases(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


def uplift(
    m: Mailing,
    cust: np.ndarray,
    variant: np.ndarray,
    out: Outcome,
    mailing_pos: int,
    seed: int,
    end_t: int,
) -> Purchases:
    """Extra purchases of treatment recipients inside the mailing's window."""
    rng = stream(seed, "uplift", m.mailing_id)
    n = len(cust)
    boost = np.where(variant == 1, 1.3, 1.0)
    clicked = out.click_t >= 0
    delivered = (out.delivered_t >= 0) | clicked | (out.open_t >= 0)
    base_t = np.where(out.delivered_t >= 0, out.delivered_t, np.maximum(out.open_t, out.click_t))
    opened = out.open_t >= 0
    p = np.where(clicked, 0.3, np.where(opened, 0.09, 0.045)) * boost
    buys = delivered & (rng.random(n) < p)
    t = np.where(
        clicked,
        out.click_t + 60 + rng.exponential(5 * HOUR, n).astype(np.int64),
        base_t + rng.exponential(1.8 * DAY, n).astype(np.int64),
    )
    window_end = m.planned_t + m.window * DAY
    buys &= (t < window_end) & (t < end_t)
    online = rng.random(n) < np.where(clicked, 0.65, 0.25)
    utm = online & (clicked | (rng.random(n) < 0.12))
    sel = np.flatnonzero(buys)
    return Purchases(
        cust[sel].astype(np.int64),
        t[sel].astype(np.int64),
        online[sel],
        np.where(utm[sel], mailing_pos, -1),
        np.full(len(sel), m.promo_category),
    )


class Catalog:
    """Product picking: by popularity overall, or within a category."""

    def __init__(self, world: World) -> None:
        p = world.products
        self.p = p
        self.cum = np.cumsum(p.weight)
        n_cat = int(p.category.max()) + 1
        self.cat_start = np.searchsorted(p.category, np.arange(n_cat), side="left")
        self.cat_end = np.searchsorted(p.category, np.arange(n_cat), side="right")

    def pick(self, rng: np.random.Generator, n: int) -> np.ndarray:
        u = rng.random(n) * self.cum[-1]
        return np.minimum(np.searchsorted(self.cum, u, side="right"), self.p.n - 1)

    def pick_in(self, rng: np.random.Generator, cat: np.ndarray) -> np.ndarray:
        lo = np.where(self.cat_start[cat] > 0, self.cum[self.cat_start[cat] - 1], 0.0)
        hi = self.cum[self.cat_end[cat] - 1]
        u = lo + rng.random(len(cat)) * (hi - lo)
        pick = np.searchsorted(self.cum, u, side="right")
        return np.clip(pick, self.cat_start[cat], self.cat_end[cat] - 1)


@dataclass
class Baskets:
    line_owner: np.ndarray  # index of the purchase
    line_number: np.ndarray
    product: np.ndarray
    milli: np.ndarray  # quantity in thousandths
    cents: np.ndarray  # line amount
    total: np.ndarray  # per purchase


def baskets(
    rng: np.random.Generator, cat: Catalog, promo: np.ndarray, mean_extra: float | np.ndarray
) -> Baskets:
    n = len(promo)
    k = 1 + np.minimum(rng.poisson(mean_extra, n), 19)
    owner = np.repeat(np.arange(n), k)
    pos = np.arange(len(owner)) - np.repeat(np.cumsum(k) - k, k)
    product = cat.pick(rng, len(owner))
    promo_line = (pos == 0) & (promo[owner] >= 0)
    if promo_line.any():
        product[promo_line] = cat.pick_in(rng, promo[owner][promo_line])
    p = cat.p
    weighed = p.weighed[product]
    grams = np.where(
        rng.random(len(owner)) < 0.3,
        rng.choice([500, 1000, 1500, 2000], len(owner)),
        rng.integers(40, 500, len(owner)) * 5,
    )
    milli = np.where(weighed, grams, 1000 * (1 + rng.poisson(0.3, len(owner))))
    disc = np.where(promo_line, 0.2, rng.choice([0, 0, 0, 0, 0, 0.05, 0.1, 0.15], len(owner)))
    cents = np.round(p.price_cents[product] * milli / 1000 * (1 - disc)).astype(np.int64)
    cents = np.maximum(cents, 1)
    total = np.bincount(owner, weights=cents, minlength=n).astype(np.int64)
    return Baskets(owner, pos + 1, product, milli, cents, total)


def daily_purchases(rng: np.random.Generator, world: World, period: Period, day: int) -> Purchases:
    c = world.customers
    counts = rng.poisson(c.purchase_rate)
    cust = np.repeat(np.arange(c.n), counts)
    n_anon = rng.poisson(c.n * 0.012)
    cust = np.concatenate([cust, np.full(n_anon, -1)])
    n = len(cust)
    online = (cust >= 0) & (rng.random(n) < c.online_share[np.maximum(cust, 0)])
    hour = np.where(online, choice_idx(rng, WEB_HOURS, n), choice_idx(rng, STORE_HOURS, n))
    # POS times are store-local; shift by the home store's offset below; web times are MSK
    t_local = period.day_t(day) + hour * HOUR + rng.integers(0, HOUR, n)
    return Purchases(cust.astype(np.int64), t_local, online, np.full(n, -1), np.full(n, -1))


class Commerce:
    def __init__(self, world: World, plan: Plan, period: Period, seed: int, sink: Sink) -> None:
        self.world = world
        self.plan = plan
        self.period = period
        self.seed = seed
        self.sink = sink
        self.catalog = Catalog(world)
        self.receipt_seq = 0
        self.order_seq = 0
        self.mismatched: list[str] = []
        sent = [m for m in plan.mailings if m.sent]
        self.sent_pos = np.array([plan.mailings.index(m) for m in sent], dtype=np.int64)
        self.sent_t = np.array([m.planned_t for m in sent], dtype=np.int64)
        rng = stream(seed, "commerce", "mismatch")
        n_bad = 3 + int(np.log2(max(world.scale, 1)))
        self.mismatch_days = set(
            rng.choice(period.days, size=min(n_bad, period.days), replace=False).tolist()
        )

    def run(self, extra: Purchases) -> None:
        c = self.world.customers
        st = self.world.stores
        # the stores the extra purchases happen in; in-store ones wait for opening hours
        rng = stream(self.seed, "commerce", "extra")
        n = len(extra.t)
        extra_store = np.where(
            rng.random(n) < 0.85,
            c.home_store[np.maximum(extra.cust, 0)],
            choice_idx(rng, st.weight, n),
        )
        local_hour = (extra.t + st.offset_min[extra_store] * MINUTE) % DAY // HOUR
        closed = ~extra.online & ((local_hour < 8) | (local_hour >= 22))
        wait = ((8 - local_hour) % 24) * HOUR + rng.integers(0, 3 * HOUR, n)
        extra.t = np.where(closed, extra.t - extra.t % HOUR + wait, extra.t)
        for day in range(self.period.days):
            rng = stream(self.seed, "commerce", day)
            base = daily_purchases(rng, self.world, self.period, day)
            # POS: local time of the store -> UTC; web: Moscow time -> UTC
            pos_store = np.where(
                (base.cust >= 0) & (rng.random(len(base.cust)) < 0.8),
                c.home_store[np.maximum(base.cust, 0)],
                choice_idx(rng, st.weight, len(base.cust)),
            )
            base.t = base.t - np.where(base.online, 180, st.offset_min[pos_store]) * MINUTE
            self._forwarded_utm(rng, base)
            day_lo, day_hi = self.period.day_t(day), self.period.day_t(day + 1)
            today = (extra.t >= day_lo) & (extra.t < day_hi)
            allp = Purchases.concat([base, extra.select(today)])
            store = np.concatenate([pos_store, extra_store[today]])
            order = np.argsort(allp.t, kind="stable")
            allp = allp.select(order)
            store = store[order]
            self._receipts(rng, allp.select(~allp.online), store[~allp.online], day)
            self._orders(rng, allp.select(allp.online))

    def _forwarded_utm(self, rng: np.random.Generator, p: Purchases) -> None:
        """Some web visits come from a mailing link without a tracked click (forwarded, typed)."""
        if len(self.sent_t) == 0:
            return
        k = np.searchsorted(self.sent_t, p.t, side="right") - 1
        recent = (k >= 0) & (p.t - self.sent_t[np.maximum(k, 0)] < 5 * DAY)
        tag = p.online & recent & (rng.random(len(p.t)) < 0.03)
        p.utm[tag] = self.sent_pos[k[tag]]

    def _receipts(
        self, rng: np.random.Generator, p: Purchases, store: np.ndarray, day: int
    ) -> None:
        n = len(p.t)
        if n == 0:
            return
        arrive = p.t + rng.integers(5 * MINUTE, 3 * HOUR, n)
        arrive += np.where(rng.random(n) < 0.02, rng.integers(DAY, 3 * DAY, n), 0)
        order = np.argsort(arrive, kind="stable")
        p, store, arrive = p.select(order), store[order], arrive[order]
        st = self.world.stores
        is_return = (p.cust >= 0) & (p.promo < 0) & (rng.random(n) < 0.025)
        b = baskets(rng, self.catalog, p.promo, np.where(is_return, 0.3, 2.3))
        rid = concat("R", ints(self.receipt_seq + 1 + np.arange(n), 10))
        self.receipt_seq += n
        total = b.total.copy()
        if day in self.mismatch_days:  # lines that do not sum to the total
            bad = int(rng.integers(0, n))
            total[bad] += int(rng.choice([1000, 4990, -500 if total[bad] > 1000 else 700]))
            self.mismatched.append(rid[bad].as_py())
        c = self.world.customers
        cols = {
            "receipt_id": rid,
            "customer_id": nullify(c.customer_id.take(pa.array(np.maximum(p.cust, 0))), p.cust < 0),
            "store_id": st.store_id.take(pa.array(store)),
            "purchased_at": tf.iso(p.t, st.offset_min[store]),
            "type": where(is_return, "return", "sale"),
            "total_amount": money(total),
            "currency": const("RUB", n),
        }
        self.sink.add("receipts", cols, arrive)
        lines = {
            "receipt_id": rid.take(pa.array(b.line_owner)),
            "line_number": ints(b.line_number),
            "product_id": self.catalog.p.product_id.take(pa.array(b.product)),
            "quantity": decimal3(b.milli),
            "amount": money(b.cents),
        }
        self.sink.add("receipt_lines", lines, arrive[b.line_owner])

    def _orders(self, rng: np.random.Generator, p: Purchases) -> None:
        n = len(p.t)
        if n == 0:
            return
        end_t = self.period.end_t
        b = baskets(rng, self.catalog, p.promo, 1.8)
        oid = concat("O", ints(self.order_seq + 1 + np.arange(n), 9))
        self.order_seq += n
        # the lines array of each order
        frag = concat(
            '{"product_id":"',
            self.catalog.p.product_id.take(pa.array(b.product)),
            '","quantity":',
            decimal3(b.milli),
            ',"amount":',
            money(b.cents),
            "}",
        )
        offsets = np.concatenate([[0], np.cumsum(np.bincount(b.line_owner, minlength=n))])
        grouped = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), frag)
        lines_json = concat("[", pc.binary_join(grouped, ","), "]")

        # status history
        t0 = p.t
        u = rng.random(n)
        paid = u >= 0.05
        t_paid = t0 + rng.integers(MINUTE, 30 * MINUTE, n)
        cancel_early_t = t0 + rng.integers(HOUR, DAY, n)
        cancel_late = paid & (rng.random(n) < 0.03)
        t_cancel = np.where(paid, t_paid + rng.integers(HOUR, 12 * HOUR, n), cancel_early_t)
        cancelled = ~paid | cancel_late
        t_ship = t_paid + rng.integers(6 * HOUR, 2 * DAY, n)
        t_deliv = t_ship + rng.integers(DAY, 4 * DAY, n)
        returned = ~cancelled & (rng.random(n) < 0.05)
        t_ret = t_deliv + rng.integers(2 * DAY, 10 * DAY, n)
        skip_paid = rng.random(n) < 0.15
        idx = np.arange(n)
        stages = [
            ("placed", idx, t0),
            ("paid", idx[paid & ~skip_paid], t_paid[paid & ~skip_paid]),
            ("cancelled", idx[cancelled], t_cancel[cancelled]),
            ("shipped", idx[~cancelled], t_ship[~cancelled]),
            ("delivered", idx[~cancelled], t_deliv[~cancelled]),
            ("returned", idx[returned], t_ret[returned]),
        ]
        rec = np.concatenate([s[1] for s in stages])
        t_upd = np.concatenate([s[2] for s in stages])
        status = np.concatenate([np.full(len(s[1]), i) for i, s in enumerate(stages)])
        keep = t_upd < end_t
        rec, t_upd, status = rec[keep], t_upd[keep], status[keep]
        k = len(rec)
        arrive = t_upd + rng.integers(MINUTE, 20 * MINUTE, k)
        arrive += np.where(rng.random(k) < 0.02, rng.integers(DAY, 3 * DAY, k), 0)
        order = np.argsort(arrive, kind="stable")
        rec, t_upd, status, arrive = rec[order], t_upd[order], status[order], arrive[order]
        r = pa.array(rec)
        modes = np.where(rng.random(n) < 0.1, tf.ZULU, tf.OFFSET)
        mailings = self.plan.mailings
        utm_id = take([m.mailing_id for m in mailings], np.maximum(p.utm, 0))
        utm_src = take([UTM_SOURCE[m.channel] for m in mailings], np.maximum(p.utm, 0))
        utm_med = take([m.channel for m in mailings], np.maximum(p.utm, 0))
        search = (p.utm < 0) & (rng.random(n) < 0.15)
        google = rng.random(n) < 0.65
        no_utm = (p.utm < 0) & ~search
        utm_src = where(search, where(google, "google", "yandex"), utm_src)
        utm_med = where(search, "cpc", utm_med)
        utm_id = where(search, where(google, "brand_search", "autumn_search"), utm_id)
        c = self.world.customers
        cols = {
            "order_id": oid.take(r),
            "customer_id": c.customer_id.take(pa.array(p.cust[rec])),
            "created_at": tf.iso(t0[rec], 180, modes[rec]),
            "updated_at": tf.iso(t_upd, 180, modes[rec]),
            "status": take([s[0] for s in stages], status),
            "total_amount": money(b.total).take(r),
            "currency": const("RUB", k),
            "utm_source": nullify(utm_src, no_utm).take(r),
            "utm_medium": nullify(utm_med, no_utm).take(r),
            "utm_campaign": nullify(utm_id, no_utm).take(r),
            "lines": lines_json.take(r),
        }
        self.sink.add("orders", cols, arrive)
