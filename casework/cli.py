"""The command line: each module's commands live in its own `casework/<module>/cli.py`
and are registered here, by name (`flask users ...`, `flask demo load`,
`flask campaigns load`, `flask workdays ...`, `flask jobs ...`, `flask scheduler run`,
`flask facts rebuild|check`). A command ends with a domain error's message through
`casework.errors.fail`."""


def register_cli(app):
    from casework.campaigns.cli import campaigns_cli
    from casework.dashboard.cli import facts_cli
    from casework.demo.cli import demo_cli
    from casework.jobs.cli import jobs_cli, scheduler_cli
    from casework.users.cli import users_cli
    from casework.workdays.cli import workdays_cli

    for group in (users_cli, demo_cli, campaigns_cli, workdays_cli, jobs_cli, scheduler_cli,
                  facts_cli):
        app.cli.add_command(group)
