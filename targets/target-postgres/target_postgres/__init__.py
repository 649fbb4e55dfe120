"""Singer target for Postgres: binary COPY into a staging table, a checksum-guarded merge."""
