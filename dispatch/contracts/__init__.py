"""Contracts, their per-severity SLA targets, and the holiday calendars they count on."""
