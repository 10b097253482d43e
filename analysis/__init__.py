"""The engine: loading, validation, features and the four analyses. No rendering here."""
