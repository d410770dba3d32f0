"""`flask campaigns load PATH`: validate and load a campaign definition file."""

import click
from flask.cli import AppGroup

from casework.errors import DomainError, fail

campaigns_cli = AppGroup("campaigns", help="Campaign definitions.")


@campaigns_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def campaigns_load_command(path):
    """Validate a campaign definition file and load it (creating or updating it)."""
    from casework.campaigns.definition import DefinitionError
    from casework.campaigns.importer import import_campaign_file

    try:
        campaign, opened = import_campaign_file(path)
    except (DefinitionError, DomainError) as error:
        fail(error)
    click.echo(f"Loaded {campaign.code}: {opened} new case(s) opened.")

