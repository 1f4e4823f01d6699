"""Push notifications: sent / delivered / opened / failed events per message."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import timefmt as tf
from .campaigns import Mailing
from .outcome import Outcome
from .period import HOUR, MINUTE
from .rng import choice_idx, stream
from .sink import Sink
from .strings import nullify, take
from .timing import arrival, rhythm_after
from .world import PLATFORMS, World

EVENTS = ("sent", "delivered", "opened", "failed")
ERRORS = (
    "NotRegistered",
    "InvalidRegistration",
    "Unregistered",
    "DeviceTokenNotForTopic",
    "MismatchSenderId",
)


def run_push(
    m: Mailing,
    cust: np.ndarray,
    variant: np.ndarray,
    t0: np.ndarray,
    pmid: pa.Array,
    world: World,
    seed: int,
    end_t: int,
    sink: Sink,
    part: int = 0,
) -> Outcome:
    rng = stream(seed, "push", m.mailing_id, part)
    c = world.customers
    n = len(cust)
    idx = np.arange(n)
    platform = c.platform[cust]
    platform = np.where(platform < 0, 1, platform)
    u = rng.random(n)
    failed = u < 0.06
    delivered = (u >= 0.06) & (u < 0.95)
    t_sent = t0 + rng.integers(0, 3, n)
    slow = rng.random(n) < 0.05
    t_fin = t_sent + np.where(slow, rng.integers(10 * MINUTE, 8 * HOUR, n), rng.integers(1, 120, n))
    boost = np.where(variant == 1, 1.2, 1.0)
    p_open = np.clip(0.09 * m.open_factor * boost * c.open_affinity[cust], 0, 0.6)
    opened = delivered & (rng.random(n) < p_open)
    t_open = rhythm_after(rng, t_fin, immediate_share=0.5, immediate_mean=5 * MINUTE)

    rec = np.concatenate([idx, idx[delivered], idx[opened], idx[failed]])
    ev = np.concatenate(
        [
            np.zeros(n, int),
            np.full(delivered.sum(), 1),
            np.full(opened.sum(), 2),
            np.full(failed.sum(), 3),
        ]
    )
    t = np.concatenate([t_sent, t_fin[delivered], t_open[opened], t_fin[failed]])
    keep = t < end_t
    rec, ev, t = rec[keep], ev[keep], t[keep]
    arrive = arrival(rng, t, mean_lag=45, late_share=0.02)
    order = np.argsort(arrive, kind="stable")
    rec, ev, t, arrive = rec[order], ev[order], t[order], arrive[order]
    k = len(rec)
    modes = tf.pick_modes(rng, k, 0.3, 0.0)
    cols = {
        "message_id": pmid.take(pa.array(rec)),
        "event": take(EVENTS, ev),
        "occurred_at": tf.iso(t, 180, modes),
        "error": nullify(take(ERRORS, choice_idx(rng, np.array([4, 3, 2, 1, 1.0]), k)), ev != 3),
        "platform": take(PLATFORMS, platform[rec]),
    }
    sink.add("push", cols, arrive)
    out = Outcome.empty(n)
    out.delivered_t = np.where(delivered, t_fin, -1)
    out.open_t = np.where(opened & (t_open < end_t), t_open, -1)
    return out
