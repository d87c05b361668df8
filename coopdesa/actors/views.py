"""Register, edit and search actors (parties and community groups)."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coopdesa import access
from coopdesa.access import Action
from coopdesa.accounts.views import form_errors_from
from coopdesa.actors import operations as ops
from coopdesa.actors.forms import ActorForm
from coopdesa.actors.models import ActorCategory, ActorKind
from coopdesa.errors import ConflictError, ValidationError
from coopdesa.extensions import db

bp = Blueprint("actors", __name__, url_prefix="/pihak")


def _page_number() -> int:
    try:
        # bounded like the API's page: a huge number would overflow the SQL OFFSET (500)
        return min(max(1, int(request.args.get("halaman", 1))), 10_000)
    except ValueError:
        return 1


@bp.route("/")
@login_required
def index():
    access.require(current_user, Action.LIST, "actor")
    filters = {
        "text": (request.args.get("q") or "")[:100],
        "kind": request.args.get("jenis") or None,
        "category": request.args.get("kategori") or None,
        "region": (request.args.get("wilayah") or "")[:20] or None,
    }
    try:
        page = ops.search_actors(**filters, page=_page_number())
    except ValidationError as error:
        flash(error.message, "warning")
        page = ops.search_actors(page=1)
    return render_template("actors/index.html", page=page, filters=filters,
                           kinds=list(ActorKind), categories=list(ActorCategory))


@bp.route("/cari")
@login_required
def search():
    """JSON for the actor autocomplete (session-authenticated, read only)."""
    access.require(current_user, Action.LIST, "actor")
    text = (request.args.get("q") or "")[:100]
    third_only = request.args.get("pihak_ketiga") in {"1", "true"}
    page = ops.search_actors(text=text, page=1, per_page=15, third_parties_only=third_only)
    return jsonify({"items": [{"id": a.id, "name": a.name, "kind_label": a.kind.label}
                              for a in page.items]})


@bp.route("/<int:actor_id>")
@login_required
def detail(actor_id: int):
    actor = ops.get_actor(actor_id)
    access.require(current_user, Action.VIEW, actor)
    return render_template("actors/detail.html", actor=actor)


@bp.route("/baru", methods=["GET", "POST"])
@login_required
def create():
    access.require(current_user, Action.CREATE, "actor")
    form = ActorForm()
    if form.validate_on_submit():
        try:
            actor = ops.create_actor(form.values(), by=current_user)
        except ValidationError as error:
            db.session.rollback()
            form_errors_from(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s telah didaftarkan.", name=actor.name), "success")
            return redirect(url_for("actors.detail", actor_id=actor.id))
    return render_template("actors/form.html", form=form, actor=None, current=None)


@bp.route("/<int:actor_id>/ubah", methods=["GET", "POST"])
@login_required
def edit(actor_id: int):
    actor = ops.get_actor(actor_id)
    access.require(current_user, Action.EDIT, actor)
    form = ActorForm(obj=actor) if request.method == "GET" else ActorForm()
    if request.method == "GET":
        form.kind.data = actor.kind.value
        form.version.data = str(actor.version)
    current = None
    if form.validate_on_submit():
        try:
            expected = int(form.version.data) if (form.version.data or "").isdigit() else None
            ops.update_actor(actor, form.values(), expected_version=expected)
        except ConflictError as error:
            db.session.rollback()
            flash(error.message, "warning")
            current = ops.get_actor(actor_id)
            form.version.data = str(current.version)  # the next save applies to this one
        except ValidationError as error:
            db.session.rollback()
            form_errors_from(form, error)
        else:
            db.session.commit()
            flash(_("Perubahan pada %(name)s telah disimpan.", name=actor.name), "success")
            return redirect(url_for("actors.detail", actor_id=actor.id))
    return render_template("actors/form.html", form=form, actor=actor, current=current)
