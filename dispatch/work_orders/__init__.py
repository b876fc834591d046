"""Work orders and their visits: intake, the state machine, the timeline, the dispatcher's list."""
