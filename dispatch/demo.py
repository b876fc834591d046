"""The demo data set: Zhengzhou, 3 warehouses, 30 engineers, 200 sites, 400 assets.

Deterministic (one seeded random generator, ids derived from it) and idempotent:
loading it into a database that already has it changes nothing.
Run with ``python -m dispatch.demo`` (uses the configured database).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import make_engine, make_sessionmaker
from core.geo import to_geography
from core.identity.models import User
from core.identity.passwords import hash_password
from core.identity.roles import Actor, Role
from core.settings import load_settings
from dispatch.contracts.models import (
    CalendarKind,
    Contract,
    ContractTarget,
    DayKind,
    HolidayCalendar,
    HolidayDay,
)
from dispatch.contracts.targets import OFFICE_HOURS, default_targets
from dispatch.customers.models import Asset, Customer, Site
from dispatch.demo_districts import CENTRE, district_of
from dispatch.engineers.models import EmployerKind, Engineer, EngineerShift, EngineerSkill
from inventory.models import Location, LocationKind

DEMO_PASSWORD = "demo-pass"
SEED = 20260301
TZ = "Asia/Shanghai"

# Mainland China public holidays and make-up working days (调休) for 2026.
CN_2026: list[tuple[str, DayKind, str]] = [
    *[(f"2026-01-0{d}", DayKind.HOLIDAY, "元旦") for d in (1, 2, 3)],
    ("2026-01-04", DayKind.MAKEUP_WORKDAY, "元旦调休"),
    ("2026-02-14", DayKind.MAKEUP_WORKDAY, "春节调休"),
    *[(f"2026-02-{d}", DayKind.HOLIDAY, "春节") for d in range(15, 24)],
    ("2026-02-28", DayKind.MAKEUP_WORKDAY, "春节调休"),
    *[(f"2026-04-0{d}", DayKind.HOLIDAY, "清明节") for d in (4, 5, 6)],
    *[(f"2026-05-0{d}", DayKind.HOLIDAY, "劳动节") for d in (1, 2, 3, 4, 5)],
    ("2026-05-09", DayKind.MAKEUP_WORKDAY, "劳动节调休"),
    *[(f"2026-06-{d}", DayKind.HOLIDAY, "端午节") for d in (19, 20, 21)],
    ("2026-09-20", DayKind.MAKEUP_WORKDAY, "国庆节调休"),
    *[(f"2026-09-{d}", DayKind.HOLIDAY, "中秋节") for d in (25, 26, 27)],
    *[(f"2026-10-0{d}", DayKind.HOLIDAY, "国庆节") for d in range(1, 8)],
    ("2026-10-10", DayKind.MAKEUP_WORKDAY, "国庆节调休"),
]

DISTRICTS = ["金水区", "中原区", "二七区", "管城回族区", "惠济区", "郑东新区", "高新区", "经开区"]
ROADS = [
    "花园路",
    "农业路",
    "金水路",
    "文化路",
    "经三路",
    "中州大道",
    "建设路",
    "嵩山路",
    "大学路",
    "航海路",
    "紫荆山路",
    "商都路",
    "东风路",
    "陇海路",
    "桐柏路",
    "科学大道",
    "郑汴路",
    "民主路",
    "黄河路",
    "未来路",
]
ORG_PREFIXES = [
    "河南",
    "郑州",
    "中原",
    "黄河",
    "嵩山",
    "绿城",
    "商都",
    "豫州",
    "金水",
    "郑东",
    "华夏",
    "天地",
]
ORG_KINDS = [
    "银行",
    "人民医院",
    "第一中学",
    "证券",
    "电力公司",
    "数据中心",
    "税务服务中心",
    "物流有限公司",
    "科技有限公司",
    "保险公司",
    "大学",
    "广播电视台",
    "自来水公司",
    "燃气集团",
    "地铁运营公司",
]
BRANCHES = ["总部", "营业部", "分中心", "机房", "东区分部", "西区分部", "南区分部", "北区分部", "二号楼"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "强",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "海燕",
    "晓东",
    "丽娟",
    "国庆",
    "红梅",
    "振宇",
    "子涵",
]
MODELS = [
    ("PowerEdge R750", "server"),
    ("ProLiant DL380 Gen10", "server"),
    ("FusionServer 2288H V6", "server"),
    ("OceanStor 5310", "storage"),
    ("Unity XT 480", "storage"),
    ("S5735-L 交换机", "network"),
    ("CE6881 数据中心交换机", "network"),
    ("UPS5000-E 不间断电源", "ups_power"),
    ("LaserJet M607", "printer"),
]
SKILLS = ["server", "storage", "network", "ups_power", "printer", "database"]
WAREHOUSES = [
    ("WH-ZZ-EAST", "郑州中心备件仓", "郑东新区商都路 100 号", (113.7302, 34.7590)),
    ("WH-ZZ-HIGHTECH", "高新区备件库", "高新区科学大道 55 号", (113.5503, 34.8102)),
    ("WH-ZZ-ECONOMIC", "经开区备件库", "经开区航海东路 1356 号", (113.7420, 34.7170)),
]


@dataclass
class DemoSummary:
    loaded: bool
    counts: dict[str, int] = field(default_factory=dict)


class _Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def next(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)


def _near(rng: random.Random, spread_km: float) -> tuple[float, float]:
    # ~111 km per degree of latitude; longitude degrees are shorter at 34.7° N.
    dlat = rng.gauss(0, spread_km / 2) / 111.0
    dlon = rng.gauss(0, spread_km / 2) / 91.3
    return (round(CENTRE[0] + dlon, 6), round(CENTRE[1] + dlat, 6))


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3578") + "".join(str(rng.randrange(10)) for _ in range(9))


def _calendar(ids: _Ids) -> HolidayCalendar:
    calendar = HolidayCalendar(id=ids.next(), name="中国大陆法定节假日", region="CN", years=[2026])
    calendar.days = [HolidayDay(day=dt.date.fromisoformat(d), kind=k, name=n) for d, k, n in CN_2026]
    return calendar


def _users_and_engineers(
    rng: random.Random, ids: _Ids, password_hash: str
) -> tuple[list[User], list[Engineer]]:
    users = [
        User(
            id=ids.next(),
            username=name,
            display_name=display,
            role=role,
            password_hash=password_hash,
            email=f"{name}@demo.fieldservice.local",
            phone=_phone(rng),
        )
        for name, display, role in (
            ("admin", "系统管理员", Role.ADMIN),
            ("supervisor", "服务主管 " + _person(rng), Role.SUPERVISOR),
            ("dispatcher", "调度员 " + _person(rng), Role.DISPATCHER),
            ("warehouse", "仓库管理员 " + _person(rng), Role.WAREHOUSE),
        )
    ]
    engineers: list[Engineer] = []
    for n in range(1, 31):
        manufacturer = n >= 29
        user = User(
            id=ids.next(),
            username=f"engineer{n:02d}",
            display_name=_person(rng),
            role=Role.ENGINEER,
            password_hash=password_hash,
            email=f"engineer{n:02d}@demo.fieldservice.local",
            phone=_phone(rng),
        )
        users.append(user)
        home = _near(rng, 14)
        rng.choice(DISTRICTS)  # drawn as before the district came from the map, so the rest stays the same
        engineer = Engineer(
            id=user.id,
            employer_kind=EmployerKind.MANUFACTURER if manufacturer else EmployerKind.COMPANY,
            employer_name="原厂技术支持中心" if manufacturer else "郑州智维信息技术服务有限公司",
            home_base=to_geography(home),
            home_address=f"郑州市{district_of(home)}{rng.choice(ROADS)}{rng.randrange(1, 300)}号",
            time_zone=TZ,
            on_call=n % 7 == 0,
        )
        for skill in rng.sample(SKILLS, k=rng.randint(2, 4)):
            valid_until = dt.date(2027, 6, 30) if skill == "ups_power" else None
            if skill == "ups_power" and n % 5 == 0:
                valid_until = dt.date(2026, 1, 31)  # an expired electrician's licence
            engineer.skills.append(
                EngineerSkill(skill=skill, level=rng.randint(1, 5), valid_until=valid_until)
            )
        weekdays = range(5) if n % 4 else range(1, 6)  # every fourth works Tue–Sat
        start = dt.time(8, 30) if n % 3 else dt.time(9, 0)
        end = dt.time(17, 30) if n % 3 else dt.time(18, 0)
        engineer.shifts = [EngineerShift(weekday=d, starts=start, ends=end) for d in weekdays]
        if n in (14, 21, 28):  # on call, with standby the nights after their working days
            engineer.shifts += [
                EngineerShift(weekday=d, starts=dt.time(18, 0), ends=dt.time(8, 0), on_call=True)
                for d in weekdays
            ]
        engineers.append(engineer)
    return users, engineers


def _customers(
    rng: random.Random, ids: _Ids, calendar: HolidayCalendar
) -> tuple[list[Customer], list[Contract], list[Site], list[Asset]]:
    names: list[str] = []
    while len(names) < 60:
        name = rng.choice(ORG_PREFIXES) + rng.choice(ORG_KINDS)
        if name not in names:
            names.append(name)
    customers = [
        Customer(
            id=ids.next(),
            customer_number=f"C{n + 1:04d}",
            name=name,
            hotline_phone="0371-" + "".join(str(rng.randrange(10)) for _ in range(8)),
        )
        for n, name in enumerate(names)
    ]
    contracts = [_contract(ids, n, customer, calendar) for n, customer in enumerate(customers)]
    sites = _sites(rng, ids, customers)
    return customers, contracts, sites, _assets(rng, ids, sites, contracts)


def _contract(ids: _Ids, n: int, customer: Customer, calendar: HolidayCalendar) -> Contract:
    """Three in five customers have a 7x24 hardware contract, the others 5x8 service."""
    kind = CalendarKind.ALWAYS if n % 5 < 3 else CalendarKind.BUSINESS_HOURS
    contract = Contract(
        id=ids.next(),
        customer_id=customer.id,
        contract_number=f"SC-2025-{n + 1:04d}",
        name=f"{customer.name} {'7x24 硬件维保' if kind is CalendarKind.ALWAYS else '5x8 运维服务'}合同",
        calendar_kind=kind,
        business_hours=OFFICE_HOURS if kind is CalendarKind.BUSINESS_HOURS else {},
        holiday_calendar_id=calendar.id,
        starts_on=dt.date(2025, 1, 1),
        ends_on=dt.date(2027, 12, 31),
        backup_device_entitled=kind is CalendarKind.ALWAYS,
        escalation=[
            {"share": 0.5, "notify": "service_manager"},
            {"share": 0.8, "notify": "director", "inform_customer": True},
        ],
    )
    contract.targets = [
        ContractTarget(
            severity=t.severity,
            measure=t.measure,
            rule=t.rule,
            minutes=t.minutes,
            count_mode=t.count_mode,
            start_rule=t.start_rule,
            cutoff=t.cutoff,
        )
        for t in default_targets(kind)
    ]
    return contract


def _sites(rng: random.Random, ids: _Ids, customers: list[Customer]) -> list[Site]:
    """200 sites: one for each customer, the rest spread at random among them."""
    sites: list[Site] = []
    for n in range(200):
        customer_index = n if n < len(customers) else rng.randrange(len(customers))
        customer = customers[customer_index]
        rng.choice(DISTRICTS)  # drawn as before the district came from the map, so the rest stays the same
        name = f"{customer.name}{rng.choice(BRANCHES)}"
        road, number = rng.choice(ROADS), rng.randrange(1, 400)
        point = _near(rng, 16)
        sites.append(
            Site(
                id=ids.next(),
                customer_id=customer.id,
                name=name,
                # The district whose outline on the map holds the site.
                address=f"河南省郑州市{district_of(point)}{road}{number}号",
                point=to_geography(point),
                time_zone=TZ,
                contact_name=_person(rng),
                contact_phone=_phone(rng),
                access_notes=rng.choice(
                    [None, "机房需提前 24 小时登记", "午休 12:00–13:30 不接待", "凭工作证到前台登记"]
                ),
                retains_media=rng.random() < 0.15,
                no_photography=rng.random() < 0.1,
            )
        )
    return sites


def _assets(rng: random.Random, ids: _Ids, sites: list[Site], contracts: list[Contract]) -> list[Asset]:
    """400 assets, two a site, each under its customer's contract."""
    contract_of = {c.customer_id: c for c in contracts}
    assets: list[Asset] = []
    for n in range(400):
        site = sites[n % len(sites)]
        model, _ = rng.choice(MODELS)
        purchased = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(0, 5 * 365))
        assets.append(
            Asset(
                id=ids.next(),
                site_id=site.id,
                contract_id=contract_of[site.customer_id].id,
                model=model,
                serial=f"SN{rng.randrange(16**10):010X}",
                purchase_date=purchased,
                warranty_end=purchased + dt.timedelta(days=3 * 365),
            )
        )
    return assets


def _locations(ids: _Ids, engineers: list[Engineer], users: list[User]) -> list[Location]:
    locations = [
        Location(
            id=ids.next(),
            code=code,
            name=name,
            kind=LocationKind.WAREHOUSE,
            address=address,
            point=to_geography(point),
        )
        for code, name, address, point in WAREHOUSES
    ]
    names = {u.id: u.username for u in users}
    for engineer in engineers:
        username = names[engineer.id]
        locations.append(
            Location(
                id=ids.next(),
                code=f"VAN-{username}",
                name=f"{username} 随车/随身库存",
                kind=LocationKind.VAN,
                engineer_id=engineer.id,
            )
        )
    return locations


# Spare parts (counted) and backup device models (serialized), with the customer models they stand in for.
PARTS = [
    ("PSU-750W", "750W 冗余电源模块", False),
    ("DISK-1.2T-SAS", "1.2TB SAS 硬盘", True),
    ("MEM-32G-DDR4", "32GB DDR4 内存条", False),
    ("FAN-2U", "2U 服务器风扇模组", False),
    ("BATT-UPS-12V", "UPS 12V 蓄电池", False),
]
BACKUP_MODELS = [
    ("BK-R750", "PowerEdge R750 备机", "PowerEdge R750", ["FusionServer 2288H V6"]),
    ("BK-DL380", "ProLiant DL380 Gen10 备机", "ProLiant DL380 Gen10", ["PowerEdge R750"]),
    ("BK-2288H", "FusionServer 2288H V6 备机", "FusionServer 2288H V6", ["ProLiant DL380 Gen10"]),
    ("BK-S5735", "S5735-L 交换机备机", "S5735-L 交换机", ["CE6881 数据中心交换机"]),
]


async def _stock(session: AsyncSession, locations: list[Location], at: dt.datetime) -> int:
    """Parts and backup units in the three warehouses and the first ten engineers' stock,
    received through the ledger like any delivery."""
    from inventory import ledger
    from inventory.models import Compatibility, Item, ItemKind, MoveKind, Unit, UnitState

    ids = _Ids(random.Random(SEED + 2))
    system = Actor(user_id=None, role=None, username="demo")
    warehouses = [loc for loc in locations if loc.kind is LocationKind.WAREHOUSE]
    vans = [loc for loc in locations if loc.kind is LocationKind.VAN][:10]
    parts = [
        Item(id=ids.next(), sku=sku, name=name, kind=ItemKind.PART, data_bearing=bearing, version=1)
        for sku, name, bearing in PARTS
    ]
    devices = [
        Item(
            id=ids.next(), sku=sku, name=name, kind=ItemKind.DEVICE, model=model, data_bearing=True, version=1
        )
        for sku, name, model, _ in BACKUP_MODELS
    ]
    session.add_all([*parts, *devices])
    await session.flush()
    session.add_all(
        Compatibility(backup_item_id=item.id, customer_model=other)
        for item, (_, _, _, others) in zip(devices, BACKUP_MODELS, strict=True)
        for other in others
    )
    for n, part in enumerate(parts):
        for w, warehouse in enumerate(warehouses):
            quantity = 10 + 5 * ((n + w) % 3)
            await ledger.record(
                session,
                system,
                at,
                ledger.Movement(MoveKind.RECEIVE, part.id, quantity, to_location_id=warehouse.id),
            )
        for v, van in enumerate(vans):
            if (n + v) % 3 == 0:
                await ledger.record(
                    session, system, at, ledger.Movement(MoveKind.RECEIVE, part.id, 2, to_location_id=van.id)
                )
    units = 0
    holders = [*warehouses, *warehouses, *vans[:4]]
    for d, device in enumerate(devices):
        for h, holder in enumerate(holders):
            if holder.kind is LocationKind.VAN and (d + h) % 2:
                continue
            units += 1
            unit = Unit(
                id=ids.next(),
                item_id=device.id,
                serial=f"BK{d + 1}{units:05d}",
                state=UnitState.AVAILABLE,
                customer_owned=False,
                configuration="标准备机配置",
                version=1,
            )
            session.add(unit)
            await session.flush()
            await ledger.record(
                session,
                system,
                at,
                ledger.Movement(MoveKind.RECEIVE, device.id, 1, to_location_id=holder.id, unit_id=unit.id),
            )
    await session.flush()
    return units


async def load_into(session: AsyncSession, now: dt.datetime | None = None) -> DemoSummary:
    """Add the demo data set unless it is already there."""
    if (await session.execute(select(User.id).where(User.username == "admin"))).first():
        return DemoSummary(loaded=False)
    rng = random.Random(SEED)
    ids = _Ids(random.Random(SEED + 1))
    password_hash = hash_password(DEMO_PASSWORD)
    calendar = _calendar(ids)
    customers, contracts, sites, assets = _customers(rng, ids, calendar)
    users, engineers = _users_and_engineers(rng, ids, password_hash)
    users.append(
        User(
            id=ids.next(),
            username="customer01",
            display_name=_person(rng) + "（客户联系人）",
            role=Role.CUSTOMER_CONTACT,
            password_hash=password_hash,
            customer_id=customers[0].id,
            email="customer01@demo.fieldservice.local",
            phone=_phone(rng),
        )
    )
    session.add(calendar)
    session.add_all(customers)
    await session.flush()
    session.add_all(contracts)
    session.add_all(users)
    await session.flush()
    session.add_all(sites)
    session.add_all(engineers)
    await session.flush()
    session.add_all(assets)
    locations = _locations(ids, engineers, users)
    session.add_all(locations)
    await session.flush()
    stock = await _stock(session, locations, now or dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    return DemoSummary(
        loaded=True,
        counts={
            "customers": len(customers),
            "sites": len(sites),
            "assets": len(assets),
            "contracts": len(contracts),
            "engineers": len(engineers),
            "users": len(users),
            "warehouses": len(WAREHOUSES),
            "stock_units": stock,
        },
    )


async def load_demo(url: str, now: dt.datetime | None = None) -> DemoSummary:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await load_into(session, now)
    finally:
        await engine.dispose()


DEMO_SIGN_INS = """Demo sign-ins (password: demo-pass)
  admin        administrator
  supervisor   service supervisor
  dispatcher   dispatcher / hotline desk
  warehouse    warehouse staff
  engineer01 … engineer30   field engineers (engineer29, engineer30: the manufacturer's)
  customer01   customer contact"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m dispatch.demo", description="Load the demo data set")
    parser.parse_args()
    summary = asyncio.run(load_demo(load_settings().database_url))
    if summary.loaded:
        print("Demo data loaded: " + ", ".join(f"{v} {k}" for k, v in summary.counts.items()))
    else:
        print("Demo data already present")
    print(DEMO_SIGN_INS)


if __name__ == "__main__":
    main()
