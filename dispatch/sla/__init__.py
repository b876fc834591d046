"""SLA clocks: working calendars, deadlines, pauses, the watch that raises at-risk and breach, compliance."""
