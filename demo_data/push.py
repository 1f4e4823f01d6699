"""Push notifications: sent / delivered / opened / failed events per message."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import timefmt as tf
from .outcome import Outcome
from .period import HOUR, MINUTE
from .rng import choice_idx, stream
from .send import Send
from .strings import nullify, take
from .timing import rhythm_after, status_timeline
from .world import PLATFORMS

EVENTS = ("sent", "delivered", "opened", "failed")
ERRORS = (
    "NotRegistered",
    "InvalidRegistration",
    "Unregistered",
    "DeviceTokenNotForTopic",
    "MismatchSenderId",
)


def run_push(s: Send) -> Outcome:
    rng = stream(s.seed, "push", s.m.mailing_id, s.part)
    c = s.world.customers
    n = len(s.cust)
    idx = np.arange(n)
    platform = c.platform[s.cust]
    platform = np.where(platform < 0, 1, platform)
    u = rng.random(n)
    failed = u < 0.06
    delivered = (u >= 0.06) & (u < 0.95)
    t_sent = s.t0 + rng.integers(0, 3, n)
    slow = rng.random(n) < 0.05
    t_fin = t_sent + np.where(slow, rng.integers(10 * MINUTE, 8 * HOUR, n), rng.integers(1, 120, n))
    boost = np.where(s.variant == 1, 1.2, 1.0)
    p_open = np.clip(0.09 * s.m.open_factor * boost * c.open_affinity[s.cust], 0, 0.6)
    opened = delivered & (rng.random(n) < p_open)
    t_open = rhythm_after(rng, t_fin, immediate_share=0.5, immediate_mean=5 * MINUTE)

    rec, ev, t, arrive = status_timeline(
        rng,
        [
            (idx, 0, t_sent),
            (idx[delivered], 1, t_fin[delivered]),
            (idx[opened], 2, t_open[opened]),
            (idx[failed], 3, t_fin[failed]),
        ],
        s.end_t,
        mean_lag=45,
        late_share=0.02,
    )
    k = len(rec)
    modes = tf.pick_modes(rng, k, 0.3, 0.0)
    cols = {
        "message_id": s.pmid.take(pa.array(rec)),
        "event": take(EVENTS, ev),
        "occurred_at": tf.iso(t, 180, modes),
        "error": nullify(take(ERRORS, choice_idx(rng, np.array([4, 3, 2, 1, 1.0]), k)), ev != 3),
        "platform": take(PLATFORMS, platform[rec]),
    }
    s.sink.add("push", cols, arrive)
    out = Outcome.empty(n)
    out.delivered_t = np.where(delivered, t_fin, -1)
    out.open_t = np.where(opened & (t_open < s.end_t), t_open, -1)
    return out
