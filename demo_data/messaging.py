"""One mailing end to end: audience, dispatches, provider events; returns what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import email, push, sms
from .audience import Audience, ContactState, Dispatches, volume_counts
from .audience import write_audience_and_dispatches as write_targets
from .campaigns import Mailing
from .outcome import NEVER, Outcome
from .send import Send
from .sink import Sink
from .world import World

Runner = Callable[[Send], Outcome]
CHUNK = 100_000  # recipients simulated at a time


def _email(provider: str) -> Runner:
    def run(send: Send) -> Outcome:
        return email.run(send, provider)

    return run


RUNNERS: dict[str, Runner] = {
    "sendgrid": _email("sendgrid"),
    "mailgun": _email("mailgun"),
    "twilio": sms.run_twilio,
    "smsc": sms.run_smsc,
    "push": push.run_push,
}


@dataclass
class MailingResult:
    audience: Audience
    dispatches: Dispatches
    outcome: Outcome
    counts: dict


def run_mailing(
    m: Mailing, world: World, state: ContactState, seed: int, end_t: int, sink: Sink
) -> MailingResult:
    aud, d = write_targets(sink, m, world, state, seed)
    out = Outcome.empty(len(d.cust))
    for p, (provider, _) in enumerate(m.providers):
        all_rows = np.flatnonzero(d.sent & (d.provider == p))
        # big audiences go in slices, so memory stays bounded at large scales
        for k, start in enumerate(range(0, len(all_rows), CHUNK)):
            rows = all_rows[start : start + CHUNK]
            send = Send(
                m,
                d.cust[rows],
                d.variant[rows],
                d.t[rows],
                d.pmid.take(pa.array(rows)),
                world,
                seed,
                end_t,
                sink,
                k,
            )
            part = RUNNERS[provider](send)
            out.fill(rows, part)
    # what this mailing changed for later audiences
    u = out.unsub_t < NEVER
    ch = state.unsub_t[m.channel]
    ch[d.cust[u]] = np.minimum(ch[d.cust[u]], out.unsub_t[u])
    cu = out.category_unsub_t < NEVER
    cat = state.category(m.category)
    cat[d.cust[cu]] = np.minimum(cat[d.cust[cu]], out.category_unsub_t[cu])
    return MailingResult(aud, d, out, volume_counts(aud, d, m))
