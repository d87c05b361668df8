"""Shared helpers: a throw-away database with the full register, and timing statistics."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager

import sqlalchemy as sa

from coopdesa import create_app
from coopdesa.extensions import db


def database_urls() -> list[tuple[str, str]]:
    """SQLite always; PostgreSQL when COOPDESA_BENCH_DATABASE_URL is set (it is wiped)."""
    urls = [("sqlite", "")]
    pg = os.environ.get("COOPDESA_BENCH_DATABASE_URL")
    if pg:
        urls.append(("postgresql", pg))
    return urls


@contextmanager
def bench_app(url: str):
    """An app on a fresh, migrated database holding the full official register."""
    with tempfile.TemporaryDirectory() as tmp:
        uri = url or f"sqlite:///{tmp}/bench.sqlite"
        app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": uri})
        app.instance_path = tmp
        with app.app_context():
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                    conn.execute(sa.text("CREATE SCHEMA public"))
            from flask_migrate import upgrade

            from coopdesa.regions.operations import load_regions

            upgrade()
            started = time.perf_counter()
            load_regions()
            print(f"  register loaded in {time.perf_counter() - started:.1f} s")
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(sa.text("ANALYZE"))
            yield app
            db.session.remove()
            db.engine.dispose()


def timed(fn: Callable[[], object], repeat: int, warmup: int = 5) -> dict[str, float]:
    """Milliseconds per call: median, p95 and max over ``repeat`` calls after warm-up."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median": statistics.median(samples),
        "p95": samples[int(len(samples) * 0.95) - 1],
        "max": samples[-1],
    }


def report(label: str, stats: dict[str, float]) -> None:
    print(f"  {label:<48} median {stats['median']:7.2f} ms   p95 {stats['p95']:7.2f} ms"
          f"   max {stats['max']:7.2f} ms")
