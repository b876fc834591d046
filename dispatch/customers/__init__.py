"""Customers → sites → assets: records, lookups, lists and who may see which customer's records."""
