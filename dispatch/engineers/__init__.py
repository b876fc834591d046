"""Engineers: skills, shifts, home base, employer, and their consented positions."""
