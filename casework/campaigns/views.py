from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from casework import clock, parsing, xlsx
from casework.campaigns import services
from casework.cases import services as case_services
from casework.dashboard import campaign_report as report_service
from casework.errors import Invalid

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")


@bp.get("/")
@login_required
def index():
    return render_template("campaigns/index.html",
                           campaigns=services.list_campaigns(current_user))


@bp.get("/<int:campaign_id>")
@login_required
def detail(campaign_id):
    campaign = services.get_campaign(campaign_id, current_user)
    return render_template(
        "campaigns/detail.html", campaign=campaign,
        timeline=services.timeline(campaign, clock.today()),
        coverage=services.coverage(campaign),
        state_counts=case_services.state_counts(current_user, campaign.id),
        mobilisation=report_service.mobilisation_counts(campaign, current_user),
    )


def _report(campaign_id):
    start, end = parsing.period_args()
    return report_service.campaign_report(campaign_id, actor=current_user, start=start,
                                          end=end)


@bp.get("/<int:campaign_id>/report")
@login_required
def report(campaign_id):
    try:
        report = _report(campaign_id)
    except Invalid as error:
        # The form again, with what was typed and why it was refused.
        campaign = report_service.get_report_campaign(campaign_id, current_user)
        return render_template(
            "campaigns/report.html", campaign=campaign, report=None,
            errors=error.details.get("errors", {}),
            start=request.args.get("start", "")[:20], end=request.args.get("end", "")[:20],
        ), 422
    return render_template("campaigns/report.html", campaign=report.campaign, report=report,
                           errors={}, start=report.start.isoformat(),
                           end=report.end.isoformat())


@bp.get("/<int:campaign_id>/report/print")
@login_required
def report_print(campaign_id):
    report = _report(campaign_id)
    return render_template("campaigns/report_print.html", report=report,
                           campaign=report.campaign)


@bp.get("/<int:campaign_id>/report.xlsx")
@login_required
def report_xlsx(campaign_id):
    report = _report(campaign_id)
    return xlsx.download(
        f"{report.campaign.code}-report-{report.start.isoformat()}-{report.end.isoformat()}.xlsx",
        report_service.report_sheets(report))
