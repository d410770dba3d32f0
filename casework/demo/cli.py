"""`flask demo load`: the demonstration data from the reference documents."""

import click
from flask.cli import AppGroup

from casework.errors import DomainError, fail

demo_cli = AppGroup("demo", help="Demonstration data from the reference documents.")


@demo_cli.command("load")
def demo_load_command():
    """Load (or update) the demo regions, institutions, users and both campaigns."""
    from casework.campaigns.definition import DefinitionError
    from casework.demo.services import load_demo

    try:
        summary = load_demo()
    except (DefinitionError, DomainError) as error:
        fail(error)
    for line in summary:
        click.echo(line)
