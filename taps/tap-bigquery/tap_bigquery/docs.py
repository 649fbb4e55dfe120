"""The README's settings table, generated from ``--about`` (streams come from the ``streams``
setting, so there is no stream table to generate: tapkit.docs' other half):

    uv run python -m tap_bigquery.docs [--check]
"""

from __future__ import annotations

import argparse

from tapkit.docs import fill, readme_of, settings_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate the README's settings table.")
    parser.add_argument("--check", action="store_true", help="fail if the README is out of date")
    args = parser.parse_args(argv)
    readme = readme_of("tap_bigquery")
    current = readme.read_text()
    updated = fill(current, {"settings": settings_table("tap_bigquery")})
    if args.check:
        if updated != current:
            raise SystemExit(f"{readme} is out of date: run python -m tap_bigquery.docs")
        return
    readme.write_text(updated)
    print(f"updated {readme}")


if __name__ == "__main__":
    main()
