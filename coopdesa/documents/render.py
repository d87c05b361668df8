"""HTML to PDF with WeasyPrint, safely and fast.

Safety: the only resources a document may load are ``data:`` URIs and files inside the
app's own static/ folder (:class:`StaticOnlyFetcher`); everything else (http, file:// paths
elsewhere, loopback, link-local, CSS ``url()``/``@import``, SVG images, ``rel=attachment``
links) fetches nothing. User text reaches the templates escaped, so it cannot even ask.
The HTML is capped in size, and rendering runs in worker processes with a time limit and
an address-space limit, so a pathological document costs one worker, never the server.

Speed: each process keeps one FontConfiguration and the parsed stylesheets (built once);
HarfBuzz subsetting (Debian package libharfbuzz-subset0) is checked at start-up because
WeasyPrint silently becomes 1.6-2x slower without it.
"""

from __future__ import annotations

import atexit
import ctypes.util
import datetime as dt
import gc
import logging
import mimetypes
import multiprocessing
import os
import threading
import zlib
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from coopdesa.documents import htmltree

log = logging.getLogger(__name__)

#: Largest HTML accepted for rendering (the longest legal proposal is far below this).
MAX_HTML_BYTES = 3 * 1024 * 1024
#: Stylesheets under static/css, applied in this order, then the paper's own.
STYLESHEETS = ("pdf.css",)
PAPER_SIZES = {"f4": "215mm 330mm", "a4": "A4"}
#: PDF/A-3b keeps fonts embedded and allows the JSON attachment (ISO 19005-3).
FINAL_VARIANT = "pdf/a-3b"
#: Name of the sRGB output intent of final documents.
SRGB = "coopdesa-srgb"
#: zlib level of the PDF's streams (fonts, page contents). pydyf compresses them at level 9;
#: at zlib's default level 6 a document is 0.5 % larger and renders 3-4 % faster
#: (docs/performance.md).
PDF_ZLIB_LEVEL = 6


class RenderError(Exception):
    """The document could not be rendered; ``message`` says why in plain words."""


@dataclass
class RenderJob:
    html: str
    static_root: str
    paper: str = "f4"
    #: "pdf/a-3b" for a final document, None for drafts and records.
    variant: str | None = None
    #: (file name, bytes, description) embedded as PDF attachments (PDF/A-3: "Data").
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)


# --- the fetcher ---------------------------------------------------------------------------

def _static_file(url: str, root: Path) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    try:
        path = Path(unquote(parts.path)).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_file() or not path.is_relative_to(root):
        return None
    return path


def make_fetcher(static_root: str):
    """A WeasyPrint URL fetcher that serves data: URIs and static/ files, nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = Path(static_root).resolve()

    class StaticOnlyFetcher(URLFetcher):
        def __init__(self) -> None:
            super().__init__(timeout=1, allowed_protocols={"data", "file"},
                             allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None):
            if url[:5].lower() == "data:":
                return super().fetch(url, headers)
            path = _static_file(url, root)
            if path is None:
                self.refused.append(url[:200])
                raise ValueError(f"coopdesa renders only its own static files: {url[:200]}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), body=path.read_bytes(),
                                      headers={"Content-Type": content_type})

    return StaticOnlyFetcher()


# --- per-process resources -----------------------------------------------------------------

@dataclass
class _Resources:
    fetcher: Any
    font_config: Any
    stylesheets: dict[str, list[Any]]
    base_url: str
    color_profiles: dict[str, Any]


class PdfZlib:
    """zlib as pydyf sees it, with the level of its streams set: pydyf 0.13 calls
    ``zlib.compressobj(level=9)`` and offers no way to choose. Everything else is zlib."""

    def __init__(self, level: int) -> None:
        self.level = level

    def compressobj(self, level: int = -1, *args: Any, **kwargs: Any) -> Any:
        return zlib.compressobj(self.level, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)


def _set_pdf_compression(level: int = PDF_ZLIB_LEVEL) -> None:
    import pydyf

    if not isinstance(pydyf.zlib, PdfZlib) or pydyf.zlib.level != level:
        pydyf.zlib = PdfZlib(level)


@lru_cache(maxsize=4)
def _resources(static_root: str) -> _Resources:
    """One FontConfiguration and the parsed stylesheets per process and static folder."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    _set_pdf_compression()

    root = Path(static_root).resolve()
    fetcher = make_fetcher(str(root))
    font_config = FontConfiguration()
    css_dir = root / "css"
    common = [CSS(filename=str(css_dir / name), url_fetcher=fetcher, font_config=font_config,
                  base_url=(css_dir / name).as_uri())
              for name in STYLESHEETS]
    sheets = {
        paper: common + [CSS(string=f"@page {{ size: {size}; }}", font_config=font_config,
                             url_fetcher=fetcher)]
        for paper, size in PAPER_SIZES.items()
    }
    return _Resources(fetcher, font_config, sheets, root.as_uri() + "/", _srgb_profiles())


def _srgb_profiles() -> dict[str, Any]:
    """The sRGB output intent PDF/A needs, read once. (WeasyPrint would open its own copy
    of the profile on every render and never close it.)

    The PDF embeds the profile file's own bytes: WeasyPrint's ``ColorProfile.content``
    re-serialises it through LittleCMS on every render, and the first serialisation in a
    process differs from the later ones (3,024 against 3,116 bytes), so a final PDF
    rendered by a fresh worker was not byte-identical to the same one from a warm worker."""
    from importlib.resources import files
    from io import BytesIO

    from weasyprint.css import ColorProfile

    class StoredProfile(ColorProfile):
        def __init__(self, data: bytes) -> None:
            super().__init__(BytesIO(data), "sRGB2014.icc", "relative-colorimetric",
                             (["r"], ["g"], ["b"]))
            self._data = data

        @property
        def content(self) -> bytes:
            return self._data

    return {SRGB: StoredProfile((files("weasyprint.pdf") / "sRGB2014.icc").read_bytes())}


# Drop fonts while the interpreter is whole: WeasyPrint's FontConfiguration frees them in
# __del__, which fails noisily once module teardown has begun.
atexit.register(_resources.cache_clear)


def render_now(job: RenderJob) -> bytes:
    """Render in this process (what a worker runs). Raises :class:`RenderError`."""
    if len(job.html.encode("utf-8", "surrogatepass")) > MAX_HTML_BYTES:
        raise RenderError("document too large to render")
    if job.paper not in PAPER_SIZES:
        raise RenderError(f"unknown paper {job.paper!r}")
    res = _resources(job.static_root)
    with _gc_paused():
        return _write(job, res)


@contextmanager
def _gc_paused():
    """No cyclic garbage collection during a render, one young collection after it.

    A render allocates hundreds of thousands of short-lived objects (boxes, styles, text
    layouts), so CPython's collector would otherwise run some 300 young and a few full
    collections per render, each walking every object the process holds (the app, fonts,
    stylesheets): about 12 % of the render's CPU (docs/performance.md). WeasyPrint leaves
    reference cycles behind, so the render's young generations are collected right after
    it (memory stays flat over 300 renders). Only the collector is paused: reference
    counting frees almost everything as usual. With threads (RENDER_WORKERS=0) the
    collector is re-enabled by whichever render found it enabled."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect(1)


def _write(job: RenderJob, res: _Resources) -> bytes:
    from weasyprint import Attachment

    try:
        document = _document(job.html, res)
        stamp = _created(document)
        attachments = [
            Attachment(string=data, name=name, description=description,
                       url_fetcher=res.fetcher, relationship="Data", created=stamp,
                       modified=stamp)
            for name, data, description in job.attachments
        ]
        intent: dict[str, Any] = {}
        if job.variant:
            intent = {"output_intent": SRGB, "color_profiles": res.color_profiles}
        return document.write_pdf(
            stylesheets=res.stylesheets[job.paper], font_config=res.font_config,
            pdf_variant=job.variant, attachments=attachments or None,
            uncompressed_pdf=False, optimize_images=True, **intent)
    except RenderError:
        raise
    except Exception as exc:  # WeasyPrint raises many kinds; the caller needs one.
        log.exception("rendering failed")
        raise RenderError(f"{type(exc).__name__}: {exc}") from exc


def _document(html: str, res: _Resources) -> Any:
    """WeasyPrint's document of ``html``, parsed by :mod:`.htmltree` (about 1.5 ms) where
    it can be sure of building the tree WeasyPrint's own HTML5 parser builds (10 ms), else
    by that parser."""
    from weasyprint import HTML

    root = htmltree.parse(html)
    if root is None:
        return HTML(string=html, base_url=res.base_url, url_fetcher=res.fetcher)
    return _parsed_html_class()(root, res.base_url, res.fetcher)


@lru_cache(maxsize=1)
def _parsed_html_class() -> type:
    import cssselect2
    from weasyprint import HTML

    class ParsedHTML(HTML):
        """An ``HTML`` from a tree already parsed: what ``HTML.__init__`` (WeasyPrint 70)
        does after its parser has run. Our documents have no ``<base>`` (htmltree refuses
        one), so the base URL is the one given."""

        def __init__(self, root: Any, base_url: str, url_fetcher: Any) -> None:
            self.base_url = base_url
            self.url_fetcher = url_fetcher
            self.media_type = "print"
            self.wrapper_element = cssselect2.ElementWrapper.from_html_root(
                root, content_language=None)
            self.etree_element = self.wrapper_element.etree_element

    return ParsedHTML


def _created(document: Any) -> dt.datetime | None:
    """The document's own date (``<meta name="dcterms.created">``) for its attachments:
    WeasyPrint would stamp them with the current time, so two renders of the same final
    document a second apart differed in bytes. None (the current time) without one."""
    from weasyprint.html import get_html_metadata

    created = get_html_metadata(document).get("created")
    try:
        return dt.datetime.fromisoformat(created) if created else None
    except ValueError:
        return None


# --- worker processes ----------------------------------------------------------------------

def _init_worker(memory_mb: int, nice: int = 0) -> None:
    """Lower the worker's scheduling priority by ``nice`` (pages served by the web process
    go first when both want the CPU), bound its address space, then warm it (imports)."""
    if nice > 0:
        with suppress(OSError):  # not permitted: keep the normal priority
            os.nice(nice)
    if memory_mb > 0:
        try:
            import resource

            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):  # pragma: no cover (not on Linux)
            pass
    import weasyprint  # noqa: F401


_frozen = False


def _run(job: RenderJob) -> bytes:
    global _frozen
    try:
        return render_now(job)
    except MemoryError:
        raise RenderError("memory limit reached while rendering") from None
    finally:
        if not _frozen:
            # After its first render a worker holds what every render reuses (imports,
            # fonts, stylesheets, caches): out of the collector's reach for good, so the
            # full collections that remain no longer walk it.
            _frozen = True
            gc.collect()
            gc.freeze()


class RenderPool:
    """A small pool of spawned worker processes shared by the whole process (web threads,
    the CLI, the export). ``render`` waits at most ``timeout`` seconds; a worker that runs
    over is killed with the pool, which is rebuilt on the next call."""

    def __init__(self, workers: int, memory_mb: int, max_tasks: int = 500,
                 nice: int = 0) -> None:
        self.workers = workers
        self.memory_mb = memory_mb
        self.nice = nice
        self.max_tasks = max_tasks
        self._pool: Any = None
        self._lock = threading.Lock()

    def _get(self):
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("spawn")
                self._pool = context.Pool(self.workers, initializer=_init_worker,
                                          initargs=(self.memory_mb, self.nice),
                                          maxtasksperchild=self.max_tasks)
            return self._pool

    def submit(self, job: RenderJob):
        return self._get().apply_async(_run, (job,))

    def wait(self, pending, timeout: float) -> bytes:
        try:
            return pending.get(timeout)
        except multiprocessing.TimeoutError:
            self.reset()
            raise RenderError(f"rendering took longer than {timeout:g} s") from None

    def render(self, job: RenderJob, timeout: float) -> bytes:
        return self.wait(self.submit(job), timeout)

    def reset(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
            pool.join()

    def imap(self, jobs, chunksize: int = 1):
        """Render ``jobs`` in order across the workers (the export's path)."""
        return self._get().imap(_run, jobs, chunksize)


_POOLS: dict[tuple[int, int, int], RenderPool] = {}
_POOLS_LOCK = threading.Lock()


def pool_for(workers: int, memory_mb: int, nice: int = 0) -> RenderPool:
    with _POOLS_LOCK:
        key = (workers, memory_mb, nice)
        if key not in _POOLS:
            _POOLS[key] = RenderPool(workers, memory_mb, nice=nice)
        return _POOLS[key]


def shutdown_pools() -> None:
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.reset()


atexit.register(shutdown_pools)


def render(job: RenderJob, *, config: dict[str, Any] | None = None) -> bytes:
    """Render ``job`` as the app is configured: in RENDER_WORKERS worker processes (at
    RENDER_NICE lower priority) with RENDER_TIMEOUT seconds, or in this process when
    RENDER_WORKERS is 0. Drafts and records come from the render cache when the same
    bytes were rendered before (:func:`cached_render`)."""
    if config is None:
        from flask import current_app

        config = current_app.config
    return cached_render(job, config, lambda: _render_uncached(job, config))


def _render_uncached(job: RenderJob, config: Any) -> bytes:
    workers = int(config.get("RENDER_WORKERS", 2))
    if workers <= 0:
        return render_now(job)
    pool = pool_for(workers, int(config.get("RENDER_MEMORY_MB", 0)),
                    int(config.get("RENDER_NICE", 0)))
    return pool.render(job, float(config.get("RENDER_TIMEOUT", 60)))


# --- the render cache ----------------------------------------------------------------------

#: Key prefix of rendered PDFs in Redis.
CACHE_PREFIX = "coopdesa:pdf:"
#: PDFs larger than this are not kept in Redis.
CACHE_MAX_BYTES = 8 * 1024 * 1024


@lru_cache(maxsize=4)
def renderer_fingerprint(static_root: str) -> str:
    """What, besides the job, decides the bytes of a PDF: the WeasyPrint version, the
    stylesheets and the fonts. A deployment that changes any of them renders anew."""
    import hashlib

    import weasyprint

    digest = hashlib.sha256(weasyprint.__version__.encode())
    root = Path(static_root)
    for name in STYLESHEETS:
        digest.update((root / "css" / name).read_bytes())
    for font in sorted((root / "fonts").rglob("*")):
        if font.is_file():
            digest.update(f"{font.relative_to(root)}:{font.stat().st_size}".encode())
    return digest.hexdigest()


def job_key(job: RenderJob) -> str:
    """The SHA-256 of everything a render reads: equal keys, equal PDFs."""
    import hashlib

    digest = hashlib.sha256(renderer_fingerprint(job.static_root).encode())
    for part in (job.paper, job.variant or ""):
        digest.update(b"\x00" + part.encode())
    digest.update(b"\x00" + job.html.encode("utf-8", "surrogatepass"))
    for name, data, description in job.attachments:
        digest.update(b"\x00" + name.encode() + b"\x00" + description.encode() + b"\x00")
        digest.update(hashlib.sha256(data).digest())
    return CACHE_PREFIX + digest.hexdigest()


def cached_render(job: RenderJob, config: Any, produce) -> bytes:
    """``produce()`` unless Redis holds the PDF of an identical job (drafts and records:
    final documents are stored once at signing, never served from here). The key is the
    SHA-256 of the HTML and everything else the render reads, so an edited proposal, a new
    comment or a new day in the text is a new key; nothing needs invalidating. Redis
    unreachable: the PDF is rendered as without the cache."""
    url = config.get("REDIS_URL")
    seconds = int(config.get("RENDER_CACHE_SECONDS", 0) or 0)
    if not url or seconds <= 0 or job.variant:
        return produce()
    from coopdesa.pagecache import redis_client

    key = job_key(job)
    try:
        stored = redis_client(url).get(key)
    except Exception as exc:  # noqa: BLE001 - a cache outage must not fail the download
        log.warning("render cache unavailable: %s", exc)
        return produce()
    if stored is not None:
        return stored
    pdf = produce()
    if len(pdf) <= CACHE_MAX_BYTES:
        try:
            redis_client(url).set(key, pdf, ex=seconds)
        except Exception as exc:  # noqa: BLE001
            log.warning("render cache unavailable: %s", exc)
    return pdf


# --- start-up check ------------------------------------------------------------------------

@lru_cache(maxsize=1)
def harfbuzz_subset_available() -> bool:
    return ctypes.util.find_library("harfbuzz-subset") is not None


def warn_if_slow(logger: logging.Logger) -> None:
    if not harfbuzz_subset_available():
        logger.warning(
            "\n%s\nPERINGATAN / WARNING: libharfbuzz-subset is missing. WeasyPrint will "
            "embed fonts without HarfBuzz subsetting and render PDFs 1.6-2x slower.\n"
            "Install it: apt-get install libharfbuzz-subset0\n%s", "!" * 78, "!" * 78)


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
