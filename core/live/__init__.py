"""Live updates for the console: changes captured by database triggers, announced with
LISTEN/NOTIFY, streamed as server-sent events."""
