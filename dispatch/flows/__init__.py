"""Where work orders meet inventory: backup-device loans, part swaps, site shipments, restock lists."""
