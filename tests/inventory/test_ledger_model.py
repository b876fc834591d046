"""Random sequences of movements, valid and invalid, against an independent stock model kept
by the test (not the ledger's own sums): balances always equal the model; refused movements
write nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select, text

from core.database import make_engine, make_sessionmaker
from inventory import ledger, reservations
from inventory.errors import OutOfStock
from inventory.models import Item, ItemKind, Location, LocationKind, MoveKind
from tests.inventory.conftest import NOW, WAREHOUSE_ACTOR

PLACES = 4
quantities = st.integers(min_value=1, max_value=6)
places = st.integers(min_value=0, max_value=PLACES - 1)


class LedgerMachine(RuleBasedStateMachine):
    url: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.engine = make_engine(self.url, pool_size=1)
        self.sessions = make_sessionmaker(self.engine)
        self.on_hand: Counter[int] = Counter()
        self.reserved: Counter[int] = Counter()
        self.holds: list[tuple[uuid.UUID, int, int]] = []
        self.moves = 0
        self.item, self.locations = self.run(self._setup())

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    async def _setup(self) -> tuple[uuid.UUID, list[uuid.UUID]]:
        async with self.sessions() as session, session.begin():
            item = Item(
                id=uuid.uuid4(), sku=f"M-{uuid.uuid4().hex[:12]}", name="model", kind=ItemKind.PART, version=1
            )
            session.add(item)
            rows = await session.execute(
                select(Location.id)
                .where(Location.kind.in_([LocationKind.WAREHOUSE, LocationKind.VAN]))
                .order_by(Location.code)
                .limit(PLACES)
            )
            return item.id, list(rows.scalars())

    def teardown(self) -> None:
        self.run(self.engine.dispose())
        self.loop.close()

    async def _post(self, movement: ledger.Movement) -> bool:
        try:
            async with self.sessions() as session, session.begin():
                await ledger.record(session, WAREHOUSE_ACTOR, NOW, movement)
        except OutOfStock:
            return False
        return True

    def free(self, place: int) -> int:
        return self.on_hand[place] - self.reserved[place]

    @rule(place=places, quantity=quantities)
    def receive(self, place: int, quantity: int) -> None:
        assert self.run(
            self._post(
                ledger.Movement(MoveKind.RECEIVE, self.item, quantity, to_location_id=self.locations[place])
            )
        )
        self.on_hand[place] += quantity
        self.moves += 1

    @rule(source=places, destination=places, quantity=quantities)
    def transfer(self, source: int, destination: int, quantity: int) -> None:
        if source == destination:
            return
        ok = self.run(
            self._post(
                ledger.Movement(
                    MoveKind.TRANSFER,
                    self.item,
                    quantity,
                    from_location_id=self.locations[source],
                    to_location_id=self.locations[destination],
                )
            )
        )
        assert ok == (self.free(source) >= quantity)
        if ok:
            self.on_hand[source] -= quantity
            self.on_hand[destination] += quantity
            self.moves += 1

    @rule(place=places, quantity=quantities, kind=st.sampled_from([MoveKind.SCRAP, MoveKind.ADJUST]))
    def take_out(self, place: int, quantity: int, kind: MoveKind) -> None:
        ok = self.run(
            self._post(
                ledger.Movement(
                    kind, self.item, quantity, from_location_id=self.locations[place], reason="count"
                )
            )
        )
        assert ok == (self.free(place) >= quantity)
        if ok:
            self.on_hand[place] -= quantity
            self.moves += 1

    @rule(place=places, quantity=quantities)
    def reserve(self, place: int, quantity: int) -> None:
        async def go() -> uuid.UUID | None:
            try:
                async with self.sessions() as session, session.begin():
                    held = await reservations.reserve_part(
                        session,
                        WAREHOUSE_ACTOR,
                        NOW,
                        item_id=self.item,
                        location_id=self.locations[place],
                        quantity=quantity,
                    )
            except OutOfStock:
                return None
            return held.id

        held = self.run(go())
        assert (held is not None) == (self.free(place) >= quantity)
        if held is not None:
            self.reserved[place] += quantity
            self.holds.append((held, place, quantity))
            self.moves += 1

    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        if not self.holds:
            return
        held, place, quantity = self.holds.pop(data.draw(st.integers(0, len(self.holds) - 1)))

        async def go() -> None:
            async with self.sessions() as session, session.begin():
                await reservations.release(session, WAREHOUSE_ACTOR, NOW, held)

        self.run(go())
        self.reserved[place] -= quantity
        self.moves += 1

    @invariant()
    def balances_equal_the_model(self) -> None:
        async def read() -> list[tuple[int, int, int, int]]:
            async with self.sessions() as session:
                rows = await session.execute(CHECK, {"item": self.item, "locations": self.locations})
                return [(int(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]

        rows = self.run(read())
        expected = [(self.on_hand[p], self.reserved[p], self.on_hand[p], self.moves) for p in range(PLACES)]
        assert rows == expected
        assert all(on_hand >= reserved >= 0 for on_hand, reserved, _, _ in rows)


# Per location in order: cached on-hand and reserved, on-hand summed from the ledger, ledger lines.
CHECK = text(
    """
    SELECT coalesce(b.on_hand, 0), coalesce(b.reserved, 0),
           (SELECT coalesce(sum(CASE WHEN m.to_location_id = l.id THEN m.quantity ELSE 0 END
                              - CASE WHEN m.from_location_id = l.id THEN m.quantity ELSE 0 END), 0)
              FROM stock_move m WHERE m.item_id = :item AND m.kind NOT IN ('reserve', 'release')),
           (SELECT count(*) FROM stock_move m WHERE m.item_id = :item)
      FROM unnest(CAST(:locations AS uuid[])) WITH ORDINALITY AS l(id, n)
      LEFT JOIN stock_balance b ON b.location_id = l.id AND b.item_id = :item
     ORDER BY l.n
    """
)


def test_ledger_matches_an_independent_model(demo_db: str) -> None:
    LedgerMachine.url = demo_db
    # The active profile's examples, capped so that the database round trips stay within budget.
    profile = settings()
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(profile, max_examples=min(profile.max_examples, 30), stateful_step_count=20),
    )
