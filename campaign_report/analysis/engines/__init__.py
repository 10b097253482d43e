"""Where the heavy SQL runs: DuckDB (default), Spark or PostgreSQL, behind one interface (base.py)."""
