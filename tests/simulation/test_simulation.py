"""The simulator: same seed, same week; a hand-computed tiny week under both policies; the
independent checks over the event log hold for the product and catch what they should."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.database import make_engine, make_sessionmaker
from core.localdb import LocalCluster
from dispatch.contracts.models import CalendarKind, Contract, Severity
from dispatch.simulation import check, policies, pool
from dispatch.simulation.engine import Outcome
from dispatch.simulation.runner import run_policy
from dispatch.simulation.scenario import Fault, Scenario, fixed, generate
from dispatch.simulation.world import FAR_ENOUGH, STANDBY_SHARE, WEEKEND_PER_SKILL, Place, load_world
from tests.support.db import create_from_template, drop_database

# Monday 2026-03-09 00:00 in Asia/Shanghai, a week after the demo data's moment.
MONDAY = datetime(2026, 3, 8, 16, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fresh(cluster: LocalCluster, admin_dsn: str, demo_template: str) -> Iterator[Callable[[], str]]:
    """A new copy of the demo database for each run, as the simulator makes one per policy."""
    made: list[str] = []

    def make() -> str:
        name = f"sim_{secrets.token_hex(4)}"
        create_from_template(admin_dsn, name, demo_template)
        made.append(name)
        return cluster.url.rsplit("/", 1)[0] + f"/{name}"

    yield make
    for name in made:
        drop_database(admin_dsn, name)


def _run(url: str, scenario: Scenario, policy: policies.Policy) -> Outcome:
    # Sweeps every 30 simulated minutes instead of 15: the same checks, half the test's time.
    return asyncio.run(run_policy(url, scenario, policy, sweep_minutes=30))


async def _plain_places(url: str, engineers: int) -> tuple[list[Place], list[Place], list[set[str]]]:
    """Every place (in the simulator's order), those at 7x24 sites with no access rules, and the
    engineers' skills."""
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            world = await load_world(session, engineers)
            always = set(
                (
                    await session.execute(
                        select(Contract.id).where(Contract.calendar_kind == CalendarKind.ALWAYS)
                    )
                )
                .scalars()
                .all()
            )
            places = world.places
            skills = [{s.skill for s in c.engineer.skills} for c in world.crews]
    finally:
        await engine.dispose()
    simple = [
        p
        for p in places
        if p.asset.contract_id in always
        and not p.site.access_windows
        and not p.site.registration_lead_minutes
        and p.site.allowed_engineer_ids is None
        and not p.site.barred_engineer_ids
    ]
    return places, simple, skills


def _fault(n: int, at: datetime, place: int, severity: Severity) -> Fault:
    return Fault(
        n=n,
        reported_at=at,
        place=place,
        severity=severity,
        repair_minutes=60,
        part_draw=1.0,  # no part needed
        part_pick=0,
        cannot_fix=False,
        vendor_hours=48,
        gate_delay_minutes=0,
        callback_minutes=5,
    )


@pytest.fixture(scope="module")
def tiny(fresh: Callable[[], str]) -> Scenario:
    """2 engineers (Mon–Fri 08:30–17:30, nobody on call), 3 faults at 7x24 sites:
    a high and a medium at 09:00 and 09:05 on Monday, a critical at 20:00 on Monday evening."""
    url = fresh()
    every, places, skills = asyncio.run(_plain_places(url, 2))
    first = next(p for p in places if p.category in skills[0])
    second = next(p for p in places if p.category in skills[1] and p is not first)
    third = next(p for p in places if p.category in skills[0] | skills[1] and p not in (first, second))
    index = [every.index(p) for p in (first, second, third)]
    faults = [
        _fault(0, MONDAY + timedelta(hours=9), index[0], Severity.HIGH),
        _fault(1, MONDAY + timedelta(hours=9, minutes=5), index[1], Severity.MEDIUM),
        _fault(2, MONDAY + timedelta(hours=20), index[2], Severity.CRITICAL),
    ]
    return fixed(MONDAY, 2, faults, hours=36)


def _sla(outcome: Outcome) -> dict[int, tuple[bool, bool, bool]]:
    """Per fault: on site within 12 h, on-site clock breached, restored within 48 h."""
    return {
        r["fault"]: (
            r["arrived_at"] is not None and r["arrived_at"] - r["reported_at"] <= timedelta(hours=12),
            bool(r["on_site_breached"]),
            r["restored_at"] is not None and r["restored_at"] - r["reported_at"] <= timedelta(hours=48),
        )
        for r in outcome.orders
    }


# The critical fault comes in at 20:00 when nobody is on shift or on call: the earliest anyone
# can be there is after 08:30 on Tuesday, past its 08:00 on-site deadline, under any policy;
# restored on Tuesday morning, well within 48 h. The two daytime faults are reached at once.
EXPECTED = {0: (True, False, True), 1: (True, False, True), 2: (False, True, True)}


@pytest.mark.parametrize("name", ["product", "plain"])
def test_a_tiny_week_gives_the_hand_computed_sla_outcomes(
    fresh: Callable[[], str], tiny: Scenario, name: str
) -> None:
    policy = policies.make(name, replan_minutes=180, time_limit_s=0.5)
    outcome = _run(fresh(), tiny, policy)
    assert _sla(outcome) == EXPECTED
    critical = next(r for r in outcome.orders if r["fault"] == 2)
    # Nobody worked the night: the first arrival is on Tuesday's shift.
    assert critical["arrived_at"] >= MONDAY + timedelta(days=1, hours=8, minutes=30)
    assert check.assignments(outcome.log.rows, outcome.crews) == []
    assert check.one_place_at_a_time(outcome.log.rows) == []
    if name == "product":
        # Monday afternoon, both daytime faults done, nothing comes in until 20:00: the routes of
        # the last plan stand and the turn is not solved again; the critical fault is planned.
        turns = [(r["at"], r["event"]) for r in outcome.log.rows if r["event"] in {"planned", "plan_skipped"}]
        assert (_at(MONDAY + timedelta(hours=18)), "plan_skipped") in turns
        assert (_at(MONDAY + timedelta(hours=21)), "planned") in turns


def _at(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture(scope="module")
def morning() -> Scenario:
    """A generated Monday 08:00–14:00 with 4 engineers."""
    start = MONDAY + timedelta(hours=8)
    scenario = generate(7, start=start, days=1, engineers=4, faults_per_day=60)
    end = start + timedelta(hours=6)
    return dataclasses.replace(scenario, hours=6, faults=[f for f in scenario.faults if f.reported_at < end])


def test_the_same_seed_gives_the_same_week(fresh: Callable[[], str], morning: Scenario) -> None:
    again = generate(7, start=MONDAY + timedelta(hours=8), days=1, engineers=4, faults_per_day=60)
    assert [f for f in again.faults if f.reported_at < morning.end] == morning.faults
    assert len(morning.faults) >= 5

    def product() -> policies.Policy:
        # A solution limit, not a time limit, ends each solve: the same work on any machine.
        return policies.make("product", replan_minutes=60, time_limit_s=30.0, solution_limit=5)

    first = _run(fresh(), morning, product())
    second = _run(fresh(), morning, product())
    assert first.log.rows == second.log.rows
    assert first.orders == second.orders
    assert any(r["event"] == "arrive" for r in first.log.rows)
    # The product never assigns off shift or without the skill; nobody is in two places.
    assert check.assignments(first.log.rows, first.crews) == []
    assert check.one_place_at_a_time(first.log.rows) == []


ROSTER = [
    {
        "engineer": "engineer01",
        "on_call": False,
        "overtime_cap_minutes": 180,
        "shifts": [{"weekday": 0, "starts": "08:30:00", "ends": "17:30:00", "on_call": False}],
        "skills": {"server": None, "ups_power": "2026-01-31"},
    }
]


def test_the_checks_catch_an_assignment_off_shift_without_skill_and_two_places_at_once() -> None:
    log: list[dict[str, Any]] = [
        # Monday 07:00 local: before the shift.
        {"at": "2026-03-09T00:00:00+00:00", "event": "assign", "visit": "F1.1", "engineer": "engineer01",
         "planned_start": "2026-03-08T23:00:00+00:00", "skills": ["server"]},
        # Monday 10:00 local, on shift, but the electrician's licence ran out in January.
        {"at": "2026-03-09T00:00:00+00:00", "event": "assign", "visit": "F2.1", "engineer": "engineer01",
         "planned_start": "2026-03-09T02:00:00+00:00", "skills": ["ups_power"]},
        {"at": "2026-03-09T02:00:00+00:00", "event": "assign", "visit": "F3.1", "engineer": "engineer01",
         "planned_start": "2026-03-09T03:00:00+00:00", "skills": ["server"]},
        # Monday 19:00 local: within the 3 h of overtime after 17:30; 21:00 is past it.
        {"at": "2026-03-09T02:00:00+00:00", "event": "assign", "visit": "F4.1", "engineer": "engineer01",
         "planned_start": "2026-03-09T11:00:00+00:00", "skills": ["server"]},
        {"at": "2026-03-09T02:00:00+00:00", "event": "assign", "visit": "F5.1", "engineer": "engineer01",
         "planned_start": "2026-03-09T13:00:00+00:00", "skills": ["server"]},
        {"at": "2026-03-09T02:00:00+00:00", "event": "travel", "visit": "F2.1", "engineer": "engineer01"},
        {"at": "2026-03-09T02:10:00+00:00", "event": "travel", "visit": "F3.1", "engineer": "engineer01"},
    ]  # fmt: skip
    assert check.assignments(log, ROSTER) == [
        "F1.1: assigned to engineer01 at 2026-03-08T23:00:00+00:00, off shift",
        "F2.1: assigned to engineer01 without skill ['ups_power']",
        "F5.1: assigned to engineer01 at 2026-03-09T13:00:00+00:00, off shift",
    ]
    assert check.one_place_at_a_time(log) == [
        "engineer01: sets off for F3.1 at 2026-03-09T02:10:00+00:00 while on F2.1"
    ]


async def _roster(url: str, roster: str) -> tuple[Counter[str], list[dict[str, Any]]]:
    """The kinds of equipment the places hold (with how many places hold each), and the team's
    roster as the simulator sets it."""
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            world = await load_world(session, 30, roster)
            team = [
                {
                    "on_call": c.engineer.on_call,
                    "name": c.actor.username,
                    "shifts": [(s.weekday, s.starts, s.on_call) for s in c.engineer.shifts],
                    "skills": {
                        s.skill
                        for s in c.engineer.skills
                        if s.valid_until is None or s.valid_until >= FAR_ENOUGH
                    },
                }
                for c in world.crews
            ]
            return Counter(p.category for p in world.places), team
    finally:
        await engine.dispose()


def test_the_weekend_rota_staffs_the_forecast_with_every_skill_and_lean_keeps_sunday_empty(
    fresh: Callable[[], str],
) -> None:
    categories, team = asyncio.run(_roster(fresh(), "forecast"))
    # The demo's 30 work the weekdays; a weekend day's faults are 0.4 of a weekday's: 12 by day.
    weekdays = [
        sum(1 for e in team if any(d == w and not standby for d, _, standby in e["shifts"])) for w in range(5)
    ]
    assert max(weekdays) == 30
    for weekday in (5, 6):  # Saturday, Sunday
        by_day = [e for e in team if any(d == weekday and not standby for d, _, standby in e["shifts"])]
        assert len(by_day) == 12, weekday
        for category in categories:
            days = [e for e in team if category in e["skills"] and any(
                d == weekday and not standby for d, _, standby in e["shifts"])]  # fmt: skip
            nights = [e for e in team if category in e["skills"] and e["on_call"] and any(
                d == weekday and standby for d, _, standby in e["shifts"])]  # fmt: skip
            assert len(days) >= WEEKEND_PER_SKILL, (weekday, category)
            assert nights, (weekday, category)
    # Standby every night by the equipment's share: one per quarter of the places or part of
    # one (servers, a third of them, get two).
    places = sum(categories.values())
    for weekday in range(7):
        for category, count in categories.items():
            nights = [e for e in team if category in e["skills"] and e["on_call"] and any(
                d == weekday and standby for d, _, standby in e["shifts"])]  # fmt: skip
            assert len(nights) >= math.ceil(count / places / STANDBY_SHARE), (weekday, category)
    assert math.ceil(categories["server"] / places / STANDBY_SHARE) == 2
    # Weekdays are left as the demo has them: nobody loses a shift.
    _, lean = asyncio.run(_roster(fresh(), "lean"))
    for before, after in zip(lean, team, strict=True):
        assert set(before["shifts"]) <= set(after["shifts"]), (before, after)
    assert not any(d == 6 and not standby for e in lean for d, _, standby in e["shifts"])


async def _pool(url: str) -> tuple[dict[str, int], dict[str, tuple[int, int]], dict[str, int]]:
    """Lendable backups per model before, what the pool added, and after."""
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            world = await load_world(session, 30, "lean")
            models = sorted({p.asset.model for p in world.places})
            before = {m: await pool.lendable(session, m) for m in models}
            stocked = await pool.stock_backups(session, world.desk, MONDAY, models, 10)
            after = {m: await pool.lendable(session, m) for m in models}
            return before, stocked, after
    finally:
        await engine.dispose()


def test_the_backup_pool_holds_units_for_every_model_the_places_have(fresh: Callable[[], str]) -> None:
    before, stocked, after = asyncio.run(_pool(fresh()))
    # The demo holds none for storage arrays, printers and UPSs.
    assert before["Unity XT 480"] == before["LaserJet M607"] == 0
    assert all(after[m] >= 10 for m in after), after
    assert stocked["Unity XT 480"] == (0, 10)
    # A model with enough already gets none.
    assert all(added == max(0, 10 - had) for had, added in stocked.values())


async def _warehouse_stock(url: str, skus: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """(on hand, reserved) per warehouse code and SKU."""
    from inventory.models import Item, Location, LocationKind, StockBalance

    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(Location.code, Item.sku, StockBalance.on_hand, StockBalance.reserved)
                .join(StockBalance, StockBalance.location_id == Location.id)
                .join(Item, Item.id == StockBalance.item_id)
                .where(Location.kind == LocationKind.WAREHOUSE, Item.sku.in_(skus))
            )
            return {(code, sku): (int(on), int(res)) for code, sku, on, res in rows}
    finally:
        await engine.dispose()


def test_the_night_restock_refills_every_warehouse_to_its_rule_by_the_morning(
    fresh: Callable[[], str],
) -> None:
    """From 20:00 to 08:00 with no fault: the demo's warehouses hold 10 to 20 of each part; with a
    rule of (25, 30) every one is below min, so the 22:00 order is 30 − on hand per warehouse and
    part, received at 06:00; with (10, 20) none is below min and nothing is ordered."""
    from dispatch.simulation.scenario import PARTS

    skus = sorted({sku for parts in PARTS.values() for sku in parts})
    evening = MONDAY + timedelta(hours=20)
    url = fresh()
    before = asyncio.run(_warehouse_stock(url, skus))
    assert before
    assert all(10 <= on <= 20 and res == 0 for on, res in before.values()), before
    scenario = dataclasses.replace(fixed(evening, 2, [], hours=12), restock_levels=(25, 30))
    outcome = _run(url, scenario, policies.make("product"))
    ordered = [r for r in outcome.log.rows if r["event"] == "restock_ordered"]
    received = [r for r in outcome.log.rows if r["event"] == "restock_received"]
    # 22:00 and 06:00 site time (UTC+8).
    assert {r["at"] for r in ordered} == {(MONDAY + timedelta(hours=22)).isoformat()}
    assert {r["at"] for r in received} == {(MONDAY + timedelta(hours=30)).isoformat()}
    lines = {(r["location"], sku): n for r in ordered for sku, n in r["lines"].items()}
    assert lines == {key: 30 - on for key, (on, _) in before.items()}
    after = asyncio.run(_warehouse_stock(url, skus))
    assert after == dict.fromkeys(before, (30, 0))
    # A rule the stock already meets orders nothing.
    quiet = dataclasses.replace(scenario, restock_levels=(10, 20))
    outcome = _run(fresh(), quiet, policies.make("product"))
    assert not [r for r in outcome.log.rows if r["event"].startswith("restock_")]


async def _loan_state(url: str, model: str) -> tuple[list[str], int]:
    """The loans' statuses and the lendable units for `model`."""
    from inventory.models import Loan

    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            statuses = [s.value for s in (await session.execute(select(Loan.status))).scalars()]
            return statuses, await pool.lendable(session, model)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("name", ["product", "plain"])
def test_a_loan_runs_its_lifecycle_and_its_unit_is_lendable_again(
    fresh: Callable[[], str], name: str
) -> None:
    """One fault at 09:00 on Monday at a 7x24 site that the engineer cannot fix on site: the
    engineer asks for a backup, which is installed the same day (at T); the faulty unit ships at
    T + 4 h, reaches the vendor a day later, is back 24 h after that (its repair time), the
    swap-back visit is done on the next shift, the backup is back in stock 2 h later and wiped 1 h
    after: the loan closes and the model has as many lendable units as before."""
    url = fresh()
    every, places, skills = asyncio.run(_plain_places(url, 2))
    place = next(p for p in places if p.category in skills[0])
    fault = dataclasses.replace(
        _fault(0, MONDAY + timedelta(hours=9), every.index(place), Severity.HIGH),
        cannot_fix=True,
        vendor_hours=24,
    )
    scenario = dataclasses.replace(fixed(MONDAY, 2, [fault], hours=96), backup_pool=2)
    outcome = _run(url, scenario, policies.make(name, replan_minutes=180, time_limit_s=0.5))
    steps = {
        r["event"] if r["event"] != "finish" else r["outcome"]: datetime.fromisoformat(r["at"])
        for r in outcome.log.rows
        if r.get("fault") == 0
        and (r["event"].startswith(("rma_", "backup_in", "backup_wiped")) or r["event"] == "finish")
    }
    installed = steps["backup_installed"]
    assert installed < MONDAY + timedelta(hours=18)
    tick = timedelta(minutes=5)
    assert installed + timedelta(hours=4) <= steps["rma_shipped"] < installed + timedelta(hours=4) + tick
    assert steps["rma_at_vendor"] == steps["rma_shipped"] + timedelta(hours=24)
    assert steps["rma_returned"] == steps["rma_at_vendor"] + timedelta(hours=24)
    assert steps["rma_returned"] < steps["swapped_back"]
    swapped = steps["swapped_back"]
    assert swapped + timedelta(hours=2) <= steps["backup_in_stock"] < swapped + timedelta(hours=2) + tick
    assert steps["backup_wiped"] == steps["backup_in_stock"] + timedelta(hours=1)
    assert not [r for r in outcome.log.rows if r["event"] == "loan_step_failed"]
    statuses, lendable = asyncio.run(_loan_state(url, place.asset.model))
    assert statuses == ["closed"]
    assert lendable == 2
