"""A simulated week of faults replayed through the product: does it keep the 12-hour on-site and
48-hour restore promise, and by how much better than a plain dispatcher? (`python -m dispatch.simulation`)"""
