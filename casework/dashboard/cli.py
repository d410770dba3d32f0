"""`flask facts rebuild|check`: the dashboards' order facts from the command line.

The facts follow every change made through the application. Rebuild them after loading
orders or history by other means (bulk SQL, a restore of some tables) and after the
migration that adds them; `check` tells whether they match what they derive from."""

import click
from flask.cli import AppGroup

from casework.dashboard import facts
from workflows import binding

facts_cli = AppGroup("facts", help="The dashboards' order facts (rebuild, check).")


@facts_cli.command("rebuild")
def rebuild_command():
    """Derive every order's day rows afresh, in one transaction."""
    with binding.unit_of_work():
        rows = facts.rebuild()
    click.echo(f"Order facts rebuilt: {rows} rows.")


@facts_cli.command("check")
def check_command():
    """Compare the stored facts with a fresh derivation; exit status 1 if they differ."""
    differences = facts.check()
    for kind, row in differences[:20]:
        click.echo(f"{kind}: {row}")
    if differences:
        raise click.ClickException(
            f"{len(differences)} rows differ; run `flask facts rebuild`.")
    click.echo("Order facts match: 0 rows differ.")
