"""`flask workdays seed|show YEAR`: the working-day calendar from the command line."""

import click
from flask.cli import AppGroup

from casework import policy
from casework.errors import DomainError
from casework.workdays import services

workdays_cli = AppGroup("workdays", help="The working-day calendar (public holidays, 调休).")


@workdays_cli.command("seed")
def seed_command():
    """Load the years chinesecalendar covers (2004–2026) as confirmed; idempotent."""
    from casework.workdays.seed import seed_from_package

    for line in seed_from_package(notify=True):
        click.echo(line)


@workdays_cli.command("show")
@click.argument("year", type=int)
def show_command(year):
    """Print a year's arrangement in the admin page's line format."""
    try:
        view = services.year_view(year, policy.SYSTEM)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    if view.row is None:
        click.echo(f"{year}: not entered; deadlines in it are provisional (weekends only).")
        return
    state = "confirmed" if view.confirmed else "NOT confirmed"
    click.echo(f"{year}: {state}, source {view.row.source}"
               + (f", {view.row.note}" if view.row.note else ""))
    click.echo("Public holidays:")
    for line in view.holiday_lines:
        click.echo(f"  {line}")
    click.echo("Adjusted working days (调休上班):")
    for line in view.workday_lines or ["(none)"]:
        click.echo(f"  {line}")
