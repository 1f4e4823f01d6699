"""One provider's share of a mailing's sent dispatches: what every channel simulator starts from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .campaigns import Mailing
from .sink import Sink
from .world import World


@dataclass(frozen=True)
class Send:
    """The sent dispatches of mailing ``m`` handed to one provider (slice ``part`` of them)."""

    m: Mailing
    cust: np.ndarray  # customer index per message
    variant: np.ndarray  # variant index per message (-1 for none)
    t0: np.ndarray  # dispatch time per message (Unix seconds)
    pmid: pa.Array  # the provider message id per message
    world: World
    seed: int
    end_t: int  # the data's end: nothing after it has happened yet
    sink: Sink
    part: int = 0
