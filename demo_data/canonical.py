"""Rows of the canonical ``events`` feed, used for the providers without a native feed."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import timefmt as tf
from .strings import B64URL, const, take, tokens


def event_columns(
    rng: np.random.Generator,
    provider: str,
    channel: str,
    message_id: pa.Array,
    event_type: np.ndarray,
    types: tuple[str, ...],
    t: np.ndarray,
    url: pa.Array | None = None,
    error_code: pa.Array | None = None,
    reason: pa.Array | None = None,
) -> dict[str, pa.Array]:
    n = len(t)
    modes = tf.pick_modes(rng, n, 0.55, 0.1)
    return {
        "event_id": tokens(rng, n, 20, B64URL),
        "provider": const(provider, n),
        "channel": const(channel, n),
        "provider_message_id": message_id,
        "event_type": take(types, event_type),
        "occurred_at": tf.iso(t, 180, modes),
        "url": url if url is not None else pa.nulls(n, pa.string()),
        "error_code": error_code if error_code is not None else pa.nulls(n, pa.string()),
        "reason": reason if reason is not None else pa.nulls(n, pa.string()),
    }
