"""Publishing: plugin definitions from the code, a hub Meltano can read, packages an index serves."""
