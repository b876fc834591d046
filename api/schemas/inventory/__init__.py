"""Inventory bodies and answers, one module per inventory service."""
