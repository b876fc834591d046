"""Customers, sites, assets, contracts, engineers, work orders, SLA clocks, visits and plans."""
