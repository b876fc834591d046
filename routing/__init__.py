"""Pure solver core: travel times, the dispatch model, OR-Tools routing, VRPTW benchmarks.

Plain data in, plain data out; nothing here knows about databases or HTTP.
"""

from routing.model import Engineer, LateVisit, Problem, Progress, Route, Solution, Stop, Unassigned, Visit
from routing.options import SolveOptions
from routing.solver import solve
from routing.travel import CachedTravelTime, EuclideanTravelTime, HaversineTravelTime, TravelTimeProvider

__all__ = [
    "CachedTravelTime",
    "Engineer",
    "EuclideanTravelTime",
    "HaversineTravelTime",
    "LateVisit",
    "Problem",
    "Progress",
    "Route",
    "Solution",
    "SolveOptions",
    "Stop",
    "TravelTimeProvider",
    "Unassigned",
    "Visit",
    "solve",
]
