"""Home page per role, language switch and health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from coopdesa.accounts.models import Bkad, Role, User
from coopdesa.accounts.views import safe_next
from coopdesa.actors.models import Actor
from coopdesa.extensions import db
from coopdesa.proposals import queries as proposal_queries
from coopdesa.proposals.models import Notification
from coopdesa.proposals.states import State
from coopdesa.regions.models import Region

bp = Blueprint("main", __name__)

#: Other areas (reports, disputes, ...) add a card to the home page by registering a
#: function (user) -> (template name, context) or None with :func:`dashboard_panel`; the
#: function does its own scoped queries, the template only renders what it is given.
DASHBOARD_PANELS: list = []


def dashboard_panel(fn):
    """Register ``fn`` as a card of the home page (see DASHBOARD_PANELS)."""
    DASHBOARD_PANELS.append(fn)
    return fn


@bp.route("/")
@login_required
def index():
    counts = {
        "actors": db.session.scalar(sa.select(sa.func.count(Actor.id))) or 0,
    }
    if current_user.role == Role.ADMIN:
        counts["users"] = db.session.scalar(sa.select(sa.func.count(User.id))) or 0
        counts["bkads"] = db.session.scalar(sa.select(sa.func.count(Bkad.id))) or 0
        counts["villages"] = db.session.scalar(
            sa.select(sa.func.count()).select_from(Region).where(Region.level == 4)) or 0
    dashboard = proposal_queries.dashboard(current_user)
    notices = db.session.scalars(
        sa.select(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(5)).all()
    unread = db.session.scalar(
        sa.select(sa.func.count(Notification.id))
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))) or 0
    return render_template("main/index.html", counts=counts, dashboard=dashboard,
                           notices=notices, unread=unread,
                           state_counts=[(s, dashboard.by_state[s]) for s in State
                                         if s in dashboard.by_state],
                           show_state_counts=current_user.role in (Role.ADMIN, Role.AUDITOR),
                           panels=[panel for panel in (fn(current_user)
                                                       for fn in DASHBOARD_PANELS)
                                   if panel is not None])


@bp.route("/bahasa/<lang>")
def set_language(lang: str):
    if lang in ("id", "en"):
        session["lang"] = lang
    return redirect(safe_next(request.args.get("next"), url_for("main.index")))


@bp.route("/healthz")
def healthz():
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}
