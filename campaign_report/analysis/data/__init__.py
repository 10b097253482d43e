"""Data in: reading files and queries, detecting their dialect, cleaning and typing, customer features."""
