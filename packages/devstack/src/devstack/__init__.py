"""The project's local stack: embedded Postgres, background sandbox, the demo job."""
