"""Users, roles, password hashing, tokens and the acting user handed to services."""
