"""Dispatch plans: from work orders to a routing problem and back, solving off the loop, re-planning."""
