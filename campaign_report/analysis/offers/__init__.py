"""What to offer whom: evidence per segment, offer rules, co-purchases."""
