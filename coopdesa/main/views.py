"""Home page per role, language switch and health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from coopdesa.accounts.models import Bkad, Role, User
from coopdesa.accounts.views import safe_next
from coopdesa.actors.models import Actor
from coopdesa.extensions import db
from coopdesa.regions.models import Region

bp = Blueprint("main", __name__)


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
    return render_template("main/index.html", counts=counts)


@bp.route("/bahasa/<lang>")
def set_language(lang: str):
    if lang in ("id", "en"):
        session["lang"] = lang
    return redirect(safe_next(request.args.get("next"), url_for("main.index")))


@bp.route("/healthz")
def healthz():
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}
