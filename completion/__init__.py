"""Completion on site: the service report drafted from the visit, its canonical form and hash,
the customer's signature bound to that hash, verification, and the archived PDF."""
