"""The campaigns read before this one into the same output folder, and what they teach together."""
