"""The `symoe` command line (Typer)."""
