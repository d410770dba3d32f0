from flask import Blueprint, render_template
from flask_login import current_user, login_required

from casework import clock
from casework.campaigns import services
from casework.cases import services as case_services

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
    )
