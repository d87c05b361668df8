"""The models and the Alembic migrations describe the same schema, in one line of history,
and the history runs down and up again."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from coopdesa import MIGRATIONS_DIR, create_app
from coopdesa.extensions import db


def _configure_args() -> dict:
    """The options create_app gives Flask-Migrate, which env.py passes to Alembic."""
    args = dict(current_app.extensions["migrate"].configure_args)
    assert args.get("render_as_batch") is True and args.get("compare_type") is True
    return args


def schema_diff() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            **_configure_args(), "target_metadata": db.metadata})
        return compare_metadata(context, db.metadata)


def _script() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR))


def test_models_and_migrations_do_not_drift(app):
    diff = schema_diff()
    assert diff == [], "run `flask db migrate` and review the new revision:\n" + "\n".join(
        map(str, diff))


def test_one_head_and_a_linear_history():
    script = _script()
    heads = script.get_heads()
    assert len(heads) == 1, heads
    revisions = list(script.walk_revisions())
    assert [r for r in revisions if r.down_revision is None] == [revisions[-1]]
    assert not any(r.is_merge_point for r in revisions)


def test_database_is_at_head(app):
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    assert current == _script().get_current_head()


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    fresh = create_app({"ENV_NAME": "testing",
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite'}"})
    model_tables = {t.name for t in db.metadata.sorted_tables}
    try:
        with fresh.app_context():
            upgrade()
            assert _tables(db.engine) == model_tables | {"alembic_version"}
            assert schema_diff() == []

            downgrade(revision="base")
            assert _tables(db.engine) <= {"alembic_version"}
            with db.engine.connect() as connection:
                assert MigrationContext.configure(connection).get_current_revision() is None

            upgrade()
            assert _tables(db.engine) == model_tables | {"alembic_version"}
            assert schema_diff() == []
            with db.engine.connect() as connection:
                assert (MigrationContext.configure(connection).get_current_revision()
                        == _script().get_current_head())
    finally:
        with fresh.app_context():
            db.engine.dispose()


def test_each_revision_steps_down_and_up(tmp_path):
    """Every single step runs both ways, not only the whole way down."""
    fresh = create_app({"ENV_NAME": "testing",
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'steps.sqlite'}"})
    steps = len(list(_script().walk_revisions()))
    try:
        with fresh.app_context():
            upgrade()
            for _step in range(steps):
                downgrade(revision="-1")
                upgrade(revision="+1")
                downgrade(revision="-1")
            with db.engine.connect() as connection:
                assert MigrationContext.configure(connection).get_current_revision() is None
            assert _tables(db.engine) <= {"alembic_version"}
    finally:
        with fresh.app_context():
            db.engine.dispose()
