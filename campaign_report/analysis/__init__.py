"""The engine: config -> Results (analyze.py). Loading, validation, features and the four analyses; no rendering."""
