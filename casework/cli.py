"""Command-line interface: `flask users ...`, `flask demo load`, `flask campaigns load`."""

import click
from flask.cli import AppGroup

from casework.errors import DomainError

users_cli = AppGroup("users", help="Create and manage user accounts.")
demo_cli = AppGroup("demo", help="Demonstration data from the reference documents.")
campaigns_cli = AppGroup("campaigns", help="Campaign definitions.")


def _fail(error: Exception) -> None:
    raise click.ClickException(str(getattr(error, "message", error)))


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice(["coordinator", "inspector", "institution", "admin", "viewer"]))
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--region", "region_code", default=None, help="Region code (region roles).")
@click.option("--institution", "institution_code", default=None,
              help="Institution code (institution role).")
@click.option("--email", default=None)
@click.option("--locale", default="zh_CN", type=click.Choice(["zh_CN", "en"]))
@click.password_option(help="Initial password (prompted when omitted).")
def create_user_command(username, role, display_name, region_code, institution_code, email,
                        locale, password):
    """Create a user with a role and its scope."""
    from casework.users.services import create_user

    try:
        user = create_user(username=username, display_name=display_name or username, role=role,
                           password=password, region_code=region_code,
                           institution_code=institution_code, email=email, locale=locale)
    except DomainError as error:
        _fail(error)
    click.echo(f"Created {user.username} ({user.role}).")


@users_cli.command("set-password")
@click.argument("username")
@click.password_option()
def set_password_command(username, password):
    """Set a user's password (also lifts a lock-out)."""
    from casework.users.services import set_password

    try:
        set_password(username, password)
    except DomainError as error:
        _fail(error)
    click.echo(f"Password of {username} changed.")


@users_cli.command("deactivate")
@click.argument("username")
def deactivate_command(username):
    """Deactivate a user: they can no longer log in; history keeps their name."""
    from casework.users.services import deactivate_user

    try:
        deactivate_user(username)
    except DomainError as error:
        _fail(error)
    click.echo(f"Deactivated {username}.")


@demo_cli.command("load")
def demo_load_command():
    """Load (or update) the demo regions, institutions, users and both campaigns."""
    from casework.campaigns.definition import DefinitionError
    from casework.demo.services import load_demo

    try:
        summary = load_demo()
    except (DefinitionError, DomainError) as error:
        _fail(error)
    for line in summary:
        click.echo(line)


@campaigns_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def campaigns_load_command(path):
    """Validate a campaign definition file and load it (creating or updating it)."""
    from casework.campaigns.definition import DefinitionError
    from casework.campaigns.importer import import_campaign_file

    try:
        campaign, opened = import_campaign_file(path)
    except (DefinitionError, DomainError) as error:
        _fail(error)
    click.echo(f"Loaded {campaign.code}: {opened} new case(s) opened.")


def register_cli(app):
    from casework.jobs.cli import jobs_cli, scheduler_cli

    for group in (users_cli, demo_cli, campaigns_cli, jobs_cli, scheduler_cli):
        app.cli.add_command(group)
