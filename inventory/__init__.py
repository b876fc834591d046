"""Locations, items, serialized units, the stock ledger, reservations and loans."""
