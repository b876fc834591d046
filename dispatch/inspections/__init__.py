"""Preventive inspections (巡检): plans per contract, the work orders they generate, checklists."""
