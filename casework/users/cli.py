"""`flask users create|set-password|deactivate`: accounts from the command line."""

import click
from flask.cli import AppGroup

from casework.errors import DomainError, fail

users_cli = AppGroup("users", help="Create and manage user accounts.")


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
        fail(error)
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
        fail(error)
    click.echo(f"Password of {username} changed.")


@users_cli.command("deactivate")
@click.argument("username")
def deactivate_command(username):
    """Deactivate a user: they can no longer log in; history keeps their name."""
    from casework.users.services import deactivate_user

    try:
        deactivate_user(username)
    except DomainError as error:
        fail(error)
    click.echo(f"Deactivated {username}.")
