"""The closed set of domain errors and their one mapping to HTTP answers.

Services raise these; views never build error responses themselves. Pages get an
HTML error page in the user's language, /api/ paths get JSON with a stable code; a
command ends with the error's message (`fail`).
"""

import click
from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    status = 400
    code = "error"
    title = _l("Request failed")

    def __init__(self, message: str | None = None, **details):
        super().__init__(message or str(self.title))
        self.message = message or str(self.title)
        self.details = details


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = _l("Not found")

    def __init__(self, message: str | None = None, **details):
        # Says the same for "does not exist" and "not yours": no hint which.
        super().__init__(message or _(
            "The page or record does not exist, or is outside your jurisdiction."), **details)


class NotPermitted(DomainError):
    status = 403
    code = "not_permitted"
    title = _l("Not permitted")


class IllegalTrigger(DomainError):
    """A trigger that the object's current state does not allow."""

    status = 409
    code = "illegal_trigger"
    title = _l("Action not possible in this state")

    def __init__(self, trigger: str, state: str, allowed: list[str], workflow: str = "case"):
        from casework.labels import state_label, trigger_label

        names = "、".join(str(trigger_label(t, workflow)) for t in allowed) or _("none")
        super().__init__(
            _(
                "“%(trigger)s” is not possible while the state is “%(state)s”. "
                "Possible now: %(allowed)s.",
                trigger=trigger_label(trigger, workflow),
                state=state_label(state, workflow),
                allowed=names,
            ),
            trigger=trigger,
            state=state,
            allowed=list(allowed),
        )


class StaleObject(DomainError):
    status = 409
    code = "stale_object"
    title = _l("Changed by someone else")

    def __init__(self, current_state: str | None = None, current_version: int | None = None):
        super().__init__(
            _(
                "This record was changed by someone else after you opened it. "
                "Nothing was saved: reload the page to see the current state and try again."
            ),
            state=current_state,
            version=current_version,
        )


class GuardFailed(DomainError):
    status = 409
    code = "guard_failed"
    title = _l("Conditions not met")

    def __init__(self, reasons: list[str]):
        from workflows.guards import Reason

        # Guards explain themselves in English; translate each into the user's language.
        shown = [_(r.template, **r.params) if isinstance(r, Reason) else _(r) for r in reasons]
        super().__init__("；".join(shown) or str(self.title), reasons=shown)


class Invalid(DomainError):
    status = 422
    code = "invalid"
    title = _l("Invalid input")

    def __init__(self, errors: dict | str):
        if isinstance(errors, str):
            errors = {"_": [errors]}
        flat = "；".join(f"{m}" for msgs in errors.values() for m in msgs)
        super().__init__(flat or str(self.title), errors=errors)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def _render(status: int, code: str, title, message: str, details: dict | None = None):
    if _wants_json():
        return jsonify(error={"code": code, "message": message, **(details or {})}), status
    return render_template("errors/error.html", status=status, title=title,
                           message=message, back=_same_site_referrer()), status


def _same_site_referrer() -> str | None:
    """Where the user came from, for a "back" link, if it is a page of this site."""
    referrer = request.referrer or ""
    return referrer if referrer.startswith(request.host_url) else None


def register_error_handlers(app):
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return _render(error.status, error.code, error.title, error.message, error.details)

    @app.errorhandler(400)
    def bad_request(error):
        return _render(400, "bad_request", _("Bad request"),
                       getattr(error, "description", None) or _("The request was malformed."))

    @app.errorhandler(403)
    def forbidden(error):
        return _render(403, "not_permitted", _("Not permitted"),
                       _("You do not have permission to do this."))

    @app.errorhandler(404)
    def not_found(error):
        return _render(404, "not_found", _("Not found"),
                       _("The page or record does not exist, or is outside your jurisdiction."))

    @app.errorhandler(405)
    def method_not_allowed(error):
        return _render(405, "method_not_allowed", _("Method not allowed"),
                       _("This address does not accept that kind of request."))

    @app.errorhandler(413)
    def too_large(error):
        return _render(413, "too_large", _("Upload too large"),
                       _("The upload is larger than the allowed maximum."))

    @app.errorhandler(429)
    def too_many(error):
        return _render(429, "rate_limited", _("Too many attempts"),
                       _("Too many attempts. Please wait a while and try again."))

    @app.errorhandler(500)
    def server_error(error):
        return _render(500, "server_error", _("Server error"),
                       _("Something went wrong on our side. Nothing was saved; please try again."))


def fail(error: Exception) -> None:
    """End a command with the domain error's message (exit status 1)."""
    raise click.ClickException(str(getattr(error, "message", error)))
