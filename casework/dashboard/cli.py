"""`flask facts rebuild|check`: the dashboards' order facts and day tallies from the
command line.

They follow every change made through the application. Rebuild them after loading
rows by other means (bulk SQL, a restore of some tables); `check` tells whether they
match what they derive from."""

import click
from flask.cli import AppGroup

from casework.dashboard import facts, tallies
from workflows import binding

facts_cli = AppGroup("facts", help="The dashboards' order facts and tallies (rebuild, check).")


@facts_cli.command("rebuild")
def rebuild_command():
    """Derive every order's day rows and every tally afresh, in one transaction."""
    with binding.unit_of_work():
        rows = facts.rebuild()
        counts = tallies.rebuild()
    click.echo(f"Order facts rebuilt: {rows} rows.")
    for table, n in counts.items():
        click.echo(f"{table} rebuilt: {n} rows.")


@facts_cli.command("check")
def check_command():
    """Compare the stored facts with a fresh derivation; exit status 1 if they differ."""
    differences = [("order_day_fact", *d) for d in facts.check()] + tallies.check()
    for table, kind, row in differences[:20]:
        click.echo(f"{table} {kind}: {row}")
    by_table: dict[str, int] = {}
    for table, _kind, _row in differences:
        by_table[table] = by_table.get(table, 0) + 1
    for table, n in by_table.items():
        click.echo(f"{table}: {n} rows differ")
    if differences:
        raise click.ClickException(
            f"{len(differences)} rows differ; run `flask facts rebuild`.")
    click.echo("Order facts and tallies match: 0 rows differ.")
