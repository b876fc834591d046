"""Notifications for staff and messages to customers (the outbox and its senders)."""
