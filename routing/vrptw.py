"""Solomon / Gehring-Homberger VRPTW instances (plain-text format).

    NAME
    VEHICLE
    NUMBER     CAPACITY
      25         200
    CUSTOMER
    CUST NO.  XCOORD.  YCOORD.  DEMAND  READY TIME  DUE DATE  SERVICE TIME
        0      40       50        0        0         1236         0
        ...

Customer 0 is the depot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from routing.model import Engineer, Problem, Visit
from routing.travel import EuclideanTravelTime


@dataclass(frozen=True)
class Customer:
    number: int
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float


@dataclass(frozen=True)
class VrptwInstance:
    name: str
    vehicles: int
    capacity: int
    depot: Customer
    customers: tuple[Customer, ...]


class InstanceFormatError(ValueError):
    pass


def parse_vrptw(text: str, name: str | None = None) -> VrptwInstance:
    lines = [line.strip() for line in text.splitlines()]
    non_empty = [line for line in lines if line]
    if not non_empty:
        raise InstanceFormatError("empty instance")
    title = name or non_empty[0]

    vehicles = capacity = None
    rows: list[Customer] = []
    section = ""
    for line in non_empty[1:]:
        upper = line.upper()
        if upper.startswith("VEHICLE"):
            section = "vehicle"
            continue
        if upper.startswith("CUSTOMER"):
            section = "customer"
            continue
        if not line[0].isdigit():
            continue  # column headings
        fields = line.split()
        if section == "vehicle" and vehicles is None:
            if len(fields) != 2:
                raise InstanceFormatError(f"bad vehicle line: {line!r}")
            vehicles, capacity = int(fields[0]), int(fields[1])
        elif section == "customer":
            if len(fields) != 7:
                raise InstanceFormatError(f"bad customer line: {line!r}")
            number, x, y, demand, ready, due, service = fields
            rows.append(
                Customer(
                    number=int(number),
                    x=float(x),
                    y=float(y),
                    demand=int(float(demand)),
                    ready=float(ready),
                    due=float(due),
                    service=float(service),
                )
            )
    if vehicles is None or capacity is None:
        raise InstanceFormatError("missing VEHICLE section")
    if not rows or rows[0].number != 0:
        raise InstanceFormatError("the first customer must be the depot, number 0")
    numbers = [c.number for c in rows]
    if numbers != list(range(len(rows))):
        raise InstanceFormatError("customers must be numbered 0, 1, 2, ... in order")
    return VrptwInstance(
        name=title,
        vehicles=vehicles,
        capacity=capacity,
        depot=rows[0],
        customers=tuple(rows[1:]),
    )


def read_vrptw(path: str | Path) -> VrptwInstance:
    p = Path(path)
    return parse_vrptw(p.read_text(), name=None)


def to_problem(instance: VrptwInstance) -> Problem:
    """The instance as a dispatch problem: vehicles become engineers with a
    capacity and one shift from the depot's ready time to its due date;
    customers become visits with one hard window and a demand."""
    depot = (instance.depot.x, instance.depot.y)
    engineers = [
        Engineer(
            id=f"vehicle-{k + 1}",
            start=depot,
            shifts=[(instance.depot.ready, instance.depot.due)],
            capacity=instance.capacity,
        )
        for k in range(instance.vehicles)
    ]
    visits = [
        Visit(
            id=str(c.number),
            point=(c.x, c.y),
            duration_s=c.service,
            windows=[(c.ready, c.due)],
            demand=c.demand,
        )
        for c in instance.customers
    ]
    return Problem(
        engineers=engineers,
        visits=visits,
        travel=EuclideanTravelTime(),
        horizon_s=instance.depot.due,
    )
