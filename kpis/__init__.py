"""Service KPIs for a period, computed by SQL from what was recorded (the work order timeline,
SLA clocks, visits, loans and the stock ledger), never from stored counters."""
