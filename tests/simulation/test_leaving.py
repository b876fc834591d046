"""When a simulated engineer sets off for the next visit: on shift, for a stop planned that day,
as soon as they are free (no waiting for the planned start), but arriving no earlier than the
appointment and the site's access hours allow; tomorrow's stop and standby call-outs by the
planned start."""

from __future__ import annotations

import uuid
from datetime import datetime
from datetime import time as dt_time
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.identity.roles import Actor, Role
from dispatch.customers.models import Asset, Site
from dispatch.engineers.models import Engineer, EngineerShift
from dispatch.simulation import policies
from dispatch.simulation.engine import Simulation
from dispatch.simulation.scenario import fixed
from dispatch.simulation.world import Crew, Place

SHANGHAI = ZoneInfo("Asia/Shanghai")
DRIVE = 1800.0  # half an hour to the site


def _at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return datetime(2026, 3, 9 + day, hour, minute, tzinfo=SHANGHAI)  # day 0: a Monday


def _leave(now: datetime, start: datetime, *, window: datetime | None = None, **site: Any) -> datetime:
    engineer = Engineer(
        time_zone="Asia/Shanghai",
        shifts=[
            EngineerShift(weekday=d, starts=dt_time(8, 30), ends=dt_time(17, 30), on_call=False)
            for d in range(5)
        ]
        + [
            EngineerShift(weekday=d, starts=dt_time(18, 0), ends=dt_time(8, 0), on_call=True)
            for d in range(5)
        ],
    )
    crew = Crew(engineer, Actor(user_id=uuid.uuid4(), role=Role.ENGINEER, username="e"), (113.6, 34.7))
    place = Place(Site(time_zone="Asia/Shanghai", **site), Asset(), "server", (113.61, 34.7))
    sim = Simulation(
        cast(async_sessionmaker[AsyncSession], None), fixed(_at(0), 1, [], hours=48), policies.Plain()
    )
    return sim._leave_at(crew, place, now, start, window, DRIVE).astimezone(SHANGHAI)


def test_on_shift_the_engineer_sets_off_for_the_days_next_stop_at_once():
    assert _leave(_at(10), _at(15)) == _at(10)
    # An appointment from 13:00: there at 13:00, not before.
    assert _leave(_at(10), _at(15), window=_at(13)) == _at(12, 30)
    # A site open 14:00–17:00 on Mondays.
    hours = [{"weekday": 0, "from": "14:00", "until": "17:00"}]
    assert _leave(_at(10), _at(15), access_windows=hours) == _at(13, 30)
    assert _leave(_at(14, 20), _at(15), access_windows=hours) == _at(14, 20)


def test_tomorrows_stop_and_a_call_out_go_by_the_planned_start():
    assert _leave(_at(16), _at(9, day=1)) == _at(8, 30, day=1)
    # On standby (off shift) at 20:00, a call-out planned for 22:00.
    assert _leave(_at(20), _at(22)) == _at(21, 30)
