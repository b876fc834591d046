"""Time on the device: stored as reported, never trusted to order anything.

The server measures the device's clock offset at each push (server receipt − the device's
own "now" sent with the batch). The time that counts for the SLA is the device's time of
the action corrected by that offset and clamped between the device's previous contact with
the server (it cannot have acted offline before it was last online… unless the entry is
explicitly backdated) and the server's receipt (nothing happened in the future).
"""

from __future__ import annotations

import datetime as dt


def offset(received_at: dt.datetime, device_now: dt.datetime) -> dt.timedelta:
    return received_at - device_now


def effective(
    device_at: dt.datetime,
    *,
    clock_offset: dt.timedelta,
    last_contact: dt.datetime,
    received_at: dt.datetime,
    backdated: bool = False,
) -> dt.datetime:
    corrected = device_at + clock_offset
    if not backdated:
        corrected = max(corrected, last_contact)
    return min(corrected, received_at)
