"""Synthetic cooperation networks: the national load for ``flask coopdesa network compute``
(issue 6, "Scale") and a small readable network for the demo in Kabupaten Wonosobo.

The agreements are plausible rather than real: antar-Desa agreements join two to five desa
of one kabupaten (UU 6/2014 Pasal 92: a Peraturan Bersama Kepala Desa), mostly neighbours in
one kecamatan; agreements with third parties (Pasal 92 ayat (2), PP 43/2014 Pasal 143) join
one to three desa with one or two businesses, offices or community groups, mostly of the
same kabupaten. Participation is skewed: a few desa have many partners, about a third have
none. They are written straight into the tables in bulk (SQLAlchemy Core, explicit ids, one
transaction), without signatures, final documents or audit entries: this is load for the
network, never a history, and it is refused outright on a production database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from coopdesa.actors.models import Actor, ActorKind
from coopdesa.errors import ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.network.graph import VILLAGE_KINDS
from coopdesa.proposals.models import (
    Bidang,
    EndGround,
    Initiative,
    Kind,
    PartyRole,
    Proposal,
    ProposalParty,
)
from coopdesa.proposals.states import State
from coopdesa.regions.models import Region, RegionKind
from coopdesa.regions.operations import code_within

#: Every synthetic agreement's reference starts so (``SIM-0000001``).
REF_PREFIX = "SIM-"
CHUNK = 10_000

#: Share of the desa that never take part (their network stays closed: bonding, isolated).
ISOLATED_SHARE = 0.30
ANTAR_DESA_SHARE = 0.60
SAME_KECAMATAN_SHARE = 0.70
STATE_WEIGHTS = ((State.ACTIVE, 70), (State.ENDED, 18), (State.SIGNED, 5),
                 (State.POSTPONED, 7))

TITLES = {
    Bidang.KEMASYARAKATAN: (
        "Pengelolaan air bersih antar-desa", "Perawatan jalan poros antar-desa",
        "Pengelolaan sampah bersama", "Pelayanan posyandu dan kesehatan ibu dan anak",
        "Pemeliharaan saluran irigasi bersama", "Pengelolaan embung bersama",
        "Pelatihan kader pemberdayaan masyarakat desa", "Pengelolaan hutan desa bersama",
        "Percepatan penurunan stunting antar-desa", "Pengembangan perpustakaan desa bersama",
        "Pembangunan jembatan penghubung antar-desa", "Pelatihan perangkat desa bersama",
    ),
    Bidang.USAHA_BERSAMA: (
        "Pemasaran kentang bersama", "Pengembangan desa wisata bersama",
        "Pengelolaan pasar desa bersama", "Pengolahan kopi rakyat bersama",
        "Pembentukan BUM Desa Bersama", "Pengelolaan air minum desa bersama",
        "Pengembangan sentra kerajinan bambu", "Pemasaran hasil perikanan bersama",
        "Pengadaan pupuk dan benih bersama", "Pengelolaan penggilingan padi bersama",
        "Pengembangan usaha gula aren bersama", "Pengelolaan wisata air terjun bersama",
    ),
    Bidang.KEAMANAN: (
        "Sistem keamanan lingkungan antar-desa", "Penanggulangan bencana berbasis desa",
        "Pencegahan kebakaran hutan dan lahan", "Ketertiban pasar dan kawasan wisata",
        "Siaga banjir dan longsor antar-desa",
    ),
}
THIRD_PARTY_TITLES = {
    Bidang.KEMASYARAKATAN: (
        "Pendampingan penyusunan RPJM Desa", "Pelatihan dan sertifikasi homestay",
        "Pendampingan kesehatan masyarakat desa", "Kuliah kerja nyata tematik",
        "Rehabilitasi jaringan air bersih", "Sekolah lapang petani",
        "Pendampingan pengelolaan keuangan desa", "Pelatihan keterampilan pemuda desa",
    ),
    Bidang.USAHA_BERSAMA: (
        "Kemitraan pemasaran hasil pertanian", "Kemitraan pengelolaan destinasi wisata",
        "Pembiayaan usaha mikro desa", "Kemitraan pengolahan dan pemasaran kopi",
        "Pengadaan sarana produksi pertanian", "Kemitraan pengolahan hasil perikanan",
        "Pemasaran produk unggulan desa secara daring",
    ),
    Bidang.KEAMANAN: (
        "Pelatihan desa tangguh bencana", "Pengamanan kawasan hutan bersama",
    ),
}
BIDANG_WEIGHTS = {
    Kind.ANTAR_DESA: ((Bidang.KEMASYARAKATAN, 50), (Bidang.USAHA_BERSAMA, 40),
                      (Bidang.KEAMANAN, 10)),
    Kind.PIHAK_KETIGA: ((Bidang.USAHA_BERSAMA, 55), (Bidang.KEMASYARAKATAN, 40),
                        (Bidang.KEAMANAN, 5)),
}

#: Third parties by kind, weighted as they are met in practice.
KIND_WEIGHTS = (
    (ActorKind.BUM_DESA, 14), (ActorKind.BUM_DESA_BERSAMA, 6), (ActorKind.KOPERASI, 14),
    (ActorKind.SWASTA, 12), (ActorKind.PEMDA, 2), (ActorKind.DINAS, 8),
    (ActorKind.KECAMATAN, 5), (ActorKind.INSTANSI_PUSAT, 2), (ActorKind.LSM, 6),
    (ActorKind.PERGURUAN_TINGGI, 4), (ActorKind.ORMAS, 3), (ActorKind.KELOMPOK_TANI, 10),
    (ActorKind.KELOMPOK_NELAYAN, 3), (ActorKind.MASYARAKAT_ADAT, 2),
    (ActorKind.ORGANISASI_KEAGAMAAN, 3), (ActorKind.ORGANISASI_PEREMPUAN, 3),
    (ActorKind.ORGANISASI_KEPEMUDAAN, 3),
)
#: Kinds that sit in the kabupaten/kota (the others sit in a kecamatan).
KABUPATEN_KINDS = frozenset({ActorKind.SWASTA, ActorKind.PEMDA, ActorKind.DINAS,
                             ActorKind.INSTANSI_PUSAT, ActorKind.LSM,
                             ActorKind.PERGURUAN_TINGGI, ActorKind.ORMAS})

_GOOD = ("Makmur", "Sejahtera", "Mandiri", "Maju Bersama", "Sumber Rejeki", "Lestari",
         "Berkah", "Tunas Harapan", "Sri Rejeki", "Mekar Sari", "Guyub Rukun", "Karya Bakti")
_NAMES: dict[ActorKind, tuple[str, ...]] = {
    ActorKind.BUM_DESA: ("BUM Desa {good} {n}",),
    ActorKind.BUM_DESA_BERSAMA: ("BUM Desa Bersama {kec} {good} {n}",),
    ActorKind.KOPERASI: ("Koperasi Tani {good} {n}", "Koperasi Produsen {good} {n}",
                         "Koperasi Simpan Pinjam {good} {n}", "Koperasi Serba Usaha {good} {n}"),
    ActorKind.SWASTA: ("PT Agro {good} {n}", "CV {good} {n}", "PT Wisata {good} {n}",
                       "PT Bumi {good} {n}"),
    ActorKind.PEMDA: ("Pemerintah {kab}",),
    ActorKind.DINAS: ("Dinas Pertanian dan Pangan {kab}", "Dinas Pariwisata {kab}",
                      "Dinas Pemberdayaan Masyarakat dan Desa {kab}",
                      "Dinas Pekerjaan Umum {kab}", "Dinas Kesehatan {kab}",
                      "Dinas Lingkungan Hidup {kab}", "Dinas Koperasi dan UKM {kab}"),
    ActorKind.KECAMATAN: ("{kec}",),
    ActorKind.INSTANSI_PUSAT: ("Balai Pengelolaan Daerah Aliran Sungai {n}",
                               "Balai Besar Wilayah Sungai {n}", "Balai Penyuluhan Pertanian {n}"),
    ActorKind.LSM: ("Yayasan {good} Nusantara {n}", "Lembaga Pendamping Desa {good} {n}"),
    ActorKind.PERGURUAN_TINGGI: ("Universitas {good} {n}", "Politeknik Pertanian {good} {n}",
                                 "Sekolah Tinggi Ekonomi {good} {n}"),
    ActorKind.ORMAS: ("Forum Peduli Desa {good} {n}", "Paguyuban {good} {n}"),
    ActorKind.KELOMPOK_TANI: ("Kelompok Tani {good} {n}", "Gabungan Kelompok Tani {good} {n}"),
    ActorKind.KELOMPOK_NELAYAN: ("Kelompok Nelayan Mina {good} {n}",),
    ActorKind.MASYARAKAT_ADAT: ("Masyarakat Adat {kec_name} {n}",),
    ActorKind.ORGANISASI_KEAGAMAAN: ("Majelis Taklim Al-Ikhlas {n}", "Remaja Masjid {good} {n}",
                                     "Persekutuan Gereja {good} {n}"),
    ActorKind.ORGANISASI_PEREMPUAN: ("Kelompok Wanita Tani {good} {n}",
                                     "TP PKK {kec} {n}"),
    ActorKind.ORGANISASI_KEPEMUDAAN: ("Karang Taruna {good} {n}",),
}
#: Kinds whose name is a real office and so carries no number unless it repeats.
_OFFICE_KINDS = frozenset({ActorKind.PEMDA, ActorKind.DINAS, ActorKind.KECAMATAN})

Progress = Callable[[int, int], None]


# --- what is generated ---------------------------------------------------------------------

@dataclasses.dataclass
class ThirdParty:
    """A third party of the plan: new (``id`` None until written) or an existing actor."""

    name: str
    kind: ActorKind
    region_code: str | None
    id: int | None = None


@dataclasses.dataclass
class Plan:
    """Agreements to write: parties are desa codes and indexes into ``third_parties``."""

    third_parties: list[ThirdParty] = dataclasses.field(default_factory=list)
    #: (kind, initiative, state, title, bidang, desa codes, third party indexes, dates)
    agreements: list[tuple] = dataclasses.field(default_factory=list)

    def add(self, kind: Kind, state: State, title: str, bidang: Sequence[str],
            desa: Sequence[str], third: Sequence[int], dates: dict,
            initiative: Initiative = Initiative.DESA) -> None:
        self.agreements.append((kind, initiative, state, title, list(bidang), list(desa),
                                list(third), dates))


def refuse_in_production() -> None:
    """Synthetic agreements never go into a real register: raises ConflictError."""
    if current_app.config.get("ENV_NAME") == "production":
        raise ConflictError(_("Data sintetis tidak pernah dibuat dalam mode produksi: "
                              "kerja sama buatan tidak boleh bercampur dengan register "
                              "kerja sama desa yang sebenarnya."))


def generate(*, prefix: str | None = None, agreements: int, actors: int, seed: int = 1,
             progress: Progress | None = None, today: dt.date | None = None,
             exclude: Iterable[str] = ()) -> dict:
    """Insert a plausible network over the desa (and desa adat; never kelurahan) under
    ``prefix`` (a region code of any level; None: the whole register): ``actors`` third
    parties and ``agreements`` agreements, with one desa actor for each desa taking part
    (existing ones reused). Desa under an ``exclude`` code take no part. The same ``seed``
    and data give the same network. Flushes in one transaction; the caller commits.

    Returns counts (and ``seconds``). Raises ConflictError in production, NotFoundError for
    an unknown prefix, ValidationError for negative counts or a register without desa."""
    refuse_in_production()
    started = time.perf_counter()
    if agreements < 0 or actors < 0:
        raise ValidationError(_("Jumlah kerja sama dan pihak tidak boleh negatif."))
    prefix = (prefix or "").strip() or None
    if prefix and db.session.get(Region, prefix) is None:
        raise NotFoundError(_("Wilayah %(code)s tidak ada dalam daftar resmi.", code=prefix))
    today = today or local_today()
    rng = random.Random(seed)  # noqa: S311 - plausible data, not secrets
    register = _Register.load(prefix, tuple(exclude))
    if agreements and not register.villages:
        raise ValidationError(_("Tidak ada desa di %(code)s: wilayah itu hanya berisi "
                                "kelurahan, atau daftar wilayah belum dimuat (flask "
                                "coopdesa init).", code=prefix or "Indonesia"))
    plan = Plan()
    builder = _Builder(rng, register, plan, today)
    builder.add_third_parties(actors)
    builder.add_agreements(agreements)
    counts = write(plan, today=today, progress=progress)
    counts["villages"] = len(register.villages)
    counts["seconds"] = round(time.perf_counter() - started, 2)
    return counts


# --- the register under the prefix ---------------------------------------------------------

@dataclasses.dataclass
class _Register:
    villages: list[str]
    village_names: dict[str, tuple[str, str]]
    #: Kecamatan and kabupaten labels: "Kecamatan Kejajar", "Kabupaten Wonosobo".
    labels: dict[str, str]
    names: dict[str, str]

    @classmethod
    def load(cls, prefix: str | None, exclude: tuple[str, ...]) -> _Register:
        where = [Region.level == 4, Region.kind.in_([k.value for k in VILLAGE_KINDS])]
        if prefix:
            where.append(code_within(Region.code, prefix))
        rows = db.session.execute(sa.select(Region.code, Region.name, Region.kind)
                                  .where(*where).order_by(Region.code)).all()
        rows = [r for r in rows if not any(r[0] == x or r[0].startswith(x + ".")
                                           for x in exclude)]
        stmt = sa.select(Region.code, Region.name, Region.kind).where(Region.level.in_((2, 3)))
        if prefix:
            # The kabupaten above a kecamatan prefix too.
            stmt = stmt.where(sa.or_(code_within(Region.code, prefix),
                                     Region.code == prefix[:5]))
        with force_locale("id"):
            kind_labels = {k: RegionKind(k).label for k in RegionKind}
        labels, names = {}, {}
        for code, name, kind in db.session.execute(stmt):
            names[code] = name
            label = kind_labels[RegionKind(kind)]
            labels[code] = name if name.lower().startswith(label.lower()) else f"{label} {name}"
        return cls(villages=[r[0] for r in rows],
                   village_names={r[0]: (r[1], str(r[2])) for r in rows},
                   labels=labels, names=names)


class _Pool:
    """Weighted choice among items (desa codes or third-party indexes)."""

    __slots__ = ("items", "cum")

    def __init__(self) -> None:
        self.items: list = []
        self.cum: list[float] = []

    def add(self, item, weight: float) -> None:
        self.items.append(item)
        self.cum.append((self.cum[-1] if self.cum else 0.0) + weight)

    def pick(self, rng: random.Random):
        return rng.choices(self.items, cum_weights=self.cum, k=1)[0]

    def __bool__(self) -> bool:
        return bool(self.items)


class _Builder:
    def __init__(self, rng: random.Random, register: _Register, plan: Plan, today: dt.date):
        self.rng = rng
        self.register = register
        self.plan = plan
        self.today = today
        self.desa_all, self.desa_kec, self.desa_kab = _Pool(), defaultdict(_Pool), \
            defaultdict(_Pool)
        self.village_count: Counter[str] = Counter()
        self.kec_count: Counter[str] = Counter()
        for code in register.villages:
            self.village_count[code[:5]] += 1
            self.kec_count[code[:8]] += 1
            if rng.random() < ISOLATED_SHARE:
                continue
            # Pareto: most desa have one or two partners, a few have dozens.
            weight = min(rng.paretovariate(1.3), 40.0)
            self.desa_all.add(code, weight)
            self.desa_kec[code[:8]].add(code, weight)
            self.desa_kab[code[:5]].add(code, weight)
        self.tp_kec, self.tp_kab, self.tp_prov, self.tp_all = (
            defaultdict(_Pool), defaultdict(_Pool), defaultdict(_Pool), _Pool())

    # -- third parties --

    def add_third_parties(self, count: int) -> None:
        if not count or not self.village_count:
            return
        rng = self.rng
        kabs = sorted(self.village_count)
        kab_cum = list(accumulate(self.village_count[k] for k in kabs))
        kecs_of: dict[str, list[str]] = defaultdict(list)
        for kec in sorted(self.kec_count):
            kecs_of[kec[:5]].append(kec)
        kinds = [k for k, _w in KIND_WEIGHTS]
        kind_cum = list(accumulate(w for _k, w in KIND_WEIGHTS))
        taken = set(db.session.scalars(sa.select(Actor.name).where(
            Actor.kind.in_([k.value for k in _OFFICE_KINDS]))))
        for i in range(count):
            kab = rng.choices(kabs, cum_weights=kab_cum, k=1)[0]
            kind = rng.choices(kinds, cum_weights=kind_cum, k=1)[0]
            kecs = kecs_of[kab]
            kec = rng.choices(kecs, weights=[self.kec_count[k] for k in kecs], k=1)[0]
            region = kab if kind in KABUPATEN_KINDS else kec
            template = rng.choice(_NAMES[kind])
            name = template.format(good=rng.choice(_GOOD), n=i + 1,
                                   kab=self.register.labels.get(kab, kab),
                                   kec=self.register.labels.get(kec, kec),
                                   kec_name=self.register.names.get(kec, kec))
            if kind in _OFFICE_KINDS:
                if name in taken:
                    name = f"{name} {i + 1}"
                taken.add(name)
            index = len(self.plan.third_parties)
            self.plan.third_parties.append(ThirdParty(name[:200], kind, region))
            weight = min(rng.paretovariate(1.2), 50.0)
            if region == kec:
                self.tp_kec[kec].add(index, weight)
            self.tp_kab[kab].add(index, weight)
            self.tp_prov[kab[:2]].add(index, weight)
            self.tp_all.add(index, weight)

    def _third_party(self, kec: str) -> int | None:
        roll = self.rng.random()
        pools = [self.tp_kec.get(kec), self.tp_kab.get(kec[:5]), self.tp_prov.get(kec[:2]),
                 self.tp_all]
        start = 0 if roll < 0.45 else 1 if roll < 0.88 else 2 if roll < 0.97 else 3
        for pool in pools[start:]:
            if pool:
                return pool.pick(self.rng)
        for pool in pools[:start]:
            if pool:
                return pool.pick(self.rng)
        return None

    # -- agreements --

    def _partners(self, first: str, count: int) -> list[str]:
        """``count`` desa besides ``first``: neighbours in its kecamatan mostly, the rest of
        its kabupaten otherwise (an antar-Desa agreement never leaves the kabupaten)."""
        chosen = [first]
        same_kec, same_kab = self.desa_kec[first[:8]], self.desa_kab[first[:5]]
        for _attempt in range(count * 6):
            if len(chosen) > count:
                break
            pool = same_kec if self.rng.random() < SAME_KECAMATAN_SHARE else same_kab
            code = pool.pick(self.rng)
            if code not in chosen:
                chosen.append(code)
        return chosen

    def add_agreements(self, count: int) -> None:
        rng = self.rng
        states = [s for s, _w in STATE_WEIGHTS]
        state_cum = list(accumulate(w for _s, w in STATE_WEIGHTS))
        for _i in range(count):
            first = self.desa_all.pick(rng)
            kind = Kind.ANTAR_DESA if rng.random() < ANTAR_DESA_SHARE else Kind.PIHAK_KETIGA
            third: list[int] = []
            if kind == Kind.ANTAR_DESA:
                desa = self._partners(first, rng.choices((1, 2, 3, 4), (50, 28, 14, 8))[0])
                if len(desa) < 2:  # a lone desa in its kabupaten: a third party instead
                    kind = Kind.PIHAK_KETIGA
            if kind == Kind.PIHAK_KETIGA:
                desa = self._partners(first, rng.choices((0, 1, 2), (60, 28, 12))[0])
                for _n in range(rng.choices((1, 2), (75, 25))[0]):
                    index = self._third_party(first[:8])
                    if index is not None and index not in third:
                        third.append(index)
                if not third:
                    continue  # no third party anywhere: nothing to agree with
            state = rng.choices(states, cum_weights=state_cum, k=1)[0]
            bidang = _bidang(rng, kind)
            titles = (TITLES if kind == Kind.ANTAR_DESA else THIRD_PARTY_TITLES)[
                Bidang(bidang[0])]
            title = f"{rng.choice(titles)} di {self._place(desa)}"
            initiative = (Initiative.PIHAK_KETIGA if kind == Kind.PIHAK_KETIGA
                          and rng.random() < 0.2 else Initiative.DESA)
            self.plan.add(kind, state, title, bidang, desa, third,
                          agreement_dates(rng, state, self.today), initiative)

    def _place(self, desa: list[str]) -> str:
        if len(desa) == 1:
            name, kind = self.register.village_names[desa[0]]
            return village_name(name, kind)
        kecs = {c[:8] for c in desa}
        code = kecs.pop() if len(kecs) == 1 else desa[0][:5]
        return self.register.labels.get(code, code)


def _bidang(rng: random.Random, kind: Kind) -> list[str]:
    options = BIDANG_WEIGHTS[kind]
    first = rng.choices([b for b, _w in options], [w for _b, w in options])[0]
    chosen = [first.value]
    if rng.random() < 0.2:
        other = rng.choice([b for b in Bidang if b != first])
        chosen.append(other.value)
    return chosen


_KIND_LABELS: dict[str, str] = {}


def village_name(name: str, kind: str) -> str:
    """"Desa Dieng", as ``actors.operations.village_display_name`` names a desa actor."""
    if not _KIND_LABELS:
        with force_locale("id"):
            _KIND_LABELS.update({k.value: k.label for k in VILLAGE_KINDS})
    label = _KIND_LABELS.get(str(kind), "Desa")
    return name if name.lower().startswith(label.lower()) else f"{label} {name}"


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    """A working-hours moment of ``day`` (07:00-16:00 WIB), in UTC."""
    return dt.datetime.combine(day, dt.time(0, 0), dt.UTC) + dt.timedelta(
        minutes=rng.randrange(0, 9 * 60))


def agreement_dates(rng: random.Random, state: State, today: dt.date) -> dict:
    """Period, ending and timestamps that agree with ``state`` as of ``today``: an active or
    postponed agreement has begun and not expired, a signed one waits for its start, an
    ended one ended in the past (on the expiry of its term, or earlier by agreement)."""
    days = dt.timedelta
    term = days(days=365 * rng.choice((1, 2, 3, 3, 5, 5, 10)))
    ended_on = ground = None
    if state == State.SIGNED:
        start = today + days(days=rng.randint(5, 150))
        end = start + term - days(days=1)
        changed = today - days(days=rng.randint(1, 60))
    elif state in (State.ACTIVE, State.POSTPONED):
        start = today - days(days=rng.randint(30, 1800))
        end = max(start + term - days(days=1), today + days(days=rng.randint(120, 1500)))
        changed = start if state == State.ACTIVE else \
            today - days(days=rng.randint(1, max(2, min(300, (today - start).days))))
    else:  # ended
        if rng.random() < 0.75:
            ground = EndGround.I_JANGKA_WAKTU
            end = today - days(days=rng.randint(1, 1500))
            start = end - term + days(days=1)
            ended_on = end + days(days=1)
        else:
            ground = EndGround.A_KESEPAKATAN
            start = today - days(days=rng.randint(200, 2500))
            end = start + term - days(days=1)
            ended_on = start + days(days=rng.randint(
                60, max(61, min((end - start).days, (today - start).days) - 1)))
        changed = ended_on
    created = _at(min(start, changed) - days(days=rng.randint(60, 240)), rng)
    submitted = created + days(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
    state_changed = max(_at(changed, rng), submitted + days(days=1))
    return {"start_date": start, "end_date": end, "ended_on": ended_on, "end_ground": ground,
            "created_at": created, "submitted_at": submitted,
            "state_changed_at": state_changed, "updated_at": state_changed}


# --- writing -------------------------------------------------------------------------------

def write(plan: Plan, *, today: dt.date | None = None,
          progress: Progress | None = None) -> dict:
    """Insert ``plan``: its new third parties, a desa actor for each desa without one, the
    agreements and their parties, with explicit ids after the current largest; flushes."""
    refuse_in_production()
    today = today or local_today()
    now = dt.datetime.now(dt.UTC)
    desa_used = sorted({code for a in plan.agreements for code in a[5]})
    existing = _desa_actors(desa_used)
    new_desa = [c for c in desa_used if c not in existing]
    new_third = [tp for tp in plan.third_parties if tp.id is None]
    party_total = sum(len(a[5]) + len(a[6]) for a in plan.agreements)
    total = len(new_third) + len(new_desa) + len(plan.agreements) + party_total
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    next_actor = _next_id(Actor)
    actor_rows = []
    for tp in new_third:
        tp.id = next_actor
        next_actor += 1
        actor_rows.append({"id": tp.id, "name": tp.name, "kind": tp.kind, "desa_code": None,
                           "region_code": tp.region_code, "created_at": now,
                           "updated_at": now, "version": 1})
    names = _village_names(new_desa)
    desa_actor = dict(existing)
    for code in new_desa:
        kind, name = names[code]
        desa_actor[code] = next_actor
        actor_rows.append({"id": next_actor, "name": village_name(name, kind),
                           "kind": ActorKind.DESA, "desa_code": code, "region_code": code,
                           "created_at": now, "updated_at": now, "version": 1})
        next_actor += 1
    _insert(Actor.__table__, actor_rows, advance)

    next_proposal = _next_id(Proposal)
    next_party = _next_id(ProposalParty)
    proposals, parties = [], []
    states: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for kind, initiative, state, title, bidang, desa, third, dates in plan.agreements:
        pid = next_proposal
        next_proposal += 1
        states[state.value] += 1
        kinds[kind.value] += 1
        proposals.append({
            "id": pid, "ref": f"{REF_PREFIX}{pid:07d}", "kind": kind, "initiative": initiative,
            "state": state, "title": title[:300], "title_key": title[:300].lower(),
            "bidang": bidang, "kabupaten_code": desa[0][:5] if desa else None,
            "version": 1, "amends_id": None, "end_note": None, **dates})
        members = [(desa_actor[c], c) for c in desa] + \
            [(plan.third_parties[i].id, None) for i in third]
        for position, (actor_id, code) in enumerate(members):
            third_first = initiative == Initiative.PIHAK_KETIGA
            leads = (code is None) if third_first else position == 0
            parties.append({"id": next_party, "proposal_id": pid, "actor_id": actor_id,
                            "desa_code": code, "position": position,
                            "role": PartyRole.PEMRAKARSA if leads else PartyRole.MITRA})
            next_party += 1
        if len(proposals) >= CHUNK:
            _flush_agreements(proposals, parties, advance)
    _flush_agreements(proposals, parties, advance)
    _advance_sequences()
    db.session.flush()
    return {"agreements": len(plan.agreements), "antar_desa": kinds[Kind.ANTAR_DESA.value],
            "pihak_ketiga": kinds[Kind.PIHAK_KETIGA.value], "parties": party_total,
            "third_parties": len(new_third), "desa_actors": len(new_desa),
            "desa_reused": len(existing), "desa_taking_part": len(desa_used),
            "states": dict(sorted(states.items()))}


def _flush_agreements(proposals: list[dict], parties: list[dict], advance) -> None:
    _insert(Proposal.__table__, proposals, advance)
    _insert(ProposalParty.__table__, parties, advance)
    proposals.clear()
    parties.clear()


def _insert(table: sa.Table, rows: list[dict], advance) -> None:
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        db.session.execute(sa.insert(table), chunk)
        advance(len(chunk))


def _next_id(model) -> int:
    return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


def _desa_actors(codes: list[str]) -> dict[str, int]:
    """The existing actor of each desa in ``codes`` (one actor per desa)."""
    if len(codes) < 500:
        stmt = sa.select(Actor.desa_code, Actor.id).where(Actor.desa_code.in_(codes))
        return dict(db.session.execute(stmt).all())
    wanted = set(codes)
    stmt = sa.select(Actor.desa_code, Actor.id).where(Actor.desa_code.is_not(None))
    return {c: i for c, i in db.session.execute(stmt) if c in wanted}


def _village_names(codes: list[str]) -> dict[str, tuple[str, str]]:
    """(kind, name) of each desa in ``codes``."""
    stmt = sa.select(Region.code, Region.kind, Region.name).where(
        Region.code.in_(codes) if len(codes) < 500 else Region.level == 4)
    return {code: (str(kind), name) for code, kind, name in db.session.execute(stmt)}


def _advance_sequences() -> None:
    """PostgreSQL hands out ids from a sequence that explicit ids do not move: move it past
    them, so the next actor or proposal made through the pages gets a free id."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("actor", "proposal", "proposal_party"):
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


# --- the demo network ----------------------------------------------------------------------

DEMO_KABUPATEN = "33.07"  # Kabupaten Wonosobo
DEMO_KECAMATAN = "33.07.13"  # Kejajar
DEMO_SEED = 2014  # UU 6/2014
_KEJAJAR = {
    "campursari": "33.07.13.2001", "sikunang": "33.07.13.2002", "sembungan": "33.07.13.2003",
    "kreo": "33.07.13.2004", "tambi": "33.07.13.2005", "buntu": "33.07.13.2006",
    "sigedang": "33.07.13.2007", "serang": "33.07.13.2009", "parikesit": "33.07.13.2011",
    "jojogan": "33.07.13.2012", "dieng": "33.07.13.2013", "patakbanteng": "33.07.13.2014",
    "surengede": "33.07.13.2015",
    # Garung, the next kecamatan down the road: partners outside Kejajar.
    "kayugiyang": "33.07.12.2004", "tlogo": "33.07.12.2009",
}
#: The demo's parties (coopdesa.demo) and ten more; existing ones (same name) are reused.
_DEMO_CAST = {
    "bumdesma": ("BUM Desa Bersama Dieng Lestari", ActorKind.BUM_DESA_BERSAMA, "33.07.13"),
    "bumdes_sembungan": ("BUM Desa Sembungan Sejahtera", ActorKind.BUM_DESA,
                         "33.07.13.2003"),
    "koperasi_kentang": ("Koperasi Produsen Kentang Dieng Makmur", ActorKind.KOPERASI,
                         "33.07.13.2014"),
    "pt_wisata": ("PT Wisata Alam Dieng", ActorKind.SWASTA, "33.07"),
    "dinas_pariwisata": ("Dinas Pariwisata dan Kebudayaan Kabupaten Wonosobo",
                         ActorKind.DINAS, "33.07"),
    "camat": ("Kecamatan Kejajar", ActorKind.KECAMATAN, "33.07.13"),
    "yayasan": ("Yayasan Lestari Hulu Serayu", ActorKind.LSM, "33.07"),
    "poktan_kentang": ("Kelompok Tani Kentang Ngudi Makmur", ActorKind.KELOMPOK_TANI,
                       "33.07.13.2014"),
    "adat": ("Masyarakat Adat Rambut Gimbal Dieng", ActorKind.MASYARAKAT_ADAT,
             "33.07.13.2013"),
    "taklim": ("Majelis Taklim Al-Ikhlas Jojogan", ActorKind.ORGANISASI_KEAGAMAAN,
               "33.07.13.2012"),
    "pkk": ("TP PKK Desa Dieng", ActorKind.ORGANISASI_PEREMPUAN, "33.07.13.2013"),
    "karang_taruna": ("Karang Taruna Tunas Muda Sembungan", ActorKind.ORGANISASI_KEPEMUDAAN,
                      "33.07.13.2003"),
    "dinas_pertanian": ("Dinas Pertanian dan Pangan Kabupaten Wonosobo", ActorKind.DINAS,
                        "33.07"),
    "stiper": ("Sekolah Tinggi Pertanian Dieng Raya", ActorKind.PERGURUAN_TINGGI, "33.07"),
    "ksp_sikunang": ("Koperasi Simpan Pinjam Sikunang Mandiri", ActorKind.KOPERASI,
                     "33.07.13"),
    "cv_carica": ("CV Carica Dieng Sari", ActorKind.SWASTA, "33.07.13"),
    "poktan_purwaceng": ("Kelompok Tani Purwaceng Sigedang", ActorKind.KELOMPOK_TANI,
                         "33.07.13"),
    "bpdas": ("Balai Pengelolaan DAS Serayu Opak Progo", ActorKind.INSTANSI_PUSAT, "33.07"),
    "pendamping": ("Lembaga Pendamping Desa Mandiri Kedu", ActorKind.LSM, "33.07"),
    "gapoktan_tambi": ("Gabungan Kelompok Tani Tambi Makmur", ActorKind.KELOMPOK_TANI,
                       "33.07.13"),
    "pt_teh": ("PT Perkebunan Teh Tambi Lestari", ActorKind.SWASTA, "33.07.13"),
    "pokdarwis": ("Kelompok Sadar Wisata Sikunir", ActorKind.ORMAS, "33.07.13"),
}
_A, _E, _S, _P = State.ACTIVE, State.ENDED, State.SIGNED, State.POSTPONED
_U, _K, _T = Bidang.USAHA_BERSAMA, Bidang.KEMASYARAKATAN, Bidang.KEAMANAN
#: Kecamatan Kejajar: two clusters (the BKAD desa around Dieng in the north, the tea and
#: vegetable desa around Tambi in the south) joined by Sikunang and the Camat; Dieng and
#: Patakbanteng at networking, most others at bridging, Tieng and Igirmranak isolated,
#: Kreo and Surengede with an ended agreement only.
_DEMO_AGREEMENTS = (
    ("Pengelolaan kawasan wisata Dataran Tinggi Dieng", ("dieng", "patakbanteng", "jojogan"),
     _A, (_U,)),
    ("Kemitraan pengelolaan destinasi wisata Kawah Sikidang", ("dieng", "pt_wisata"), _A,
     (_U,)),
    ("Pelestarian tradisi ruwatan rambut gimbal di Desa Dieng",
     ("dieng", "adat", "dinas_pariwisata"), _A, (_K,)),
    ("Pelestarian sumber air Telaga Warna dan Telaga Pengilon", ("dieng", "yayasan"), _A,
     (_K,)),
    ("Pemasaran carica dan purwaceng Desa Dieng", ("dieng", "cv_carica"), _A, (_U,)),
    ("Pelatihan kader posyandu Desa Dieng", ("dieng", "pkk"), _A, (_K,)),
    ("Penelitian budidaya kentang ramah lingkungan", ("dieng", "patakbanteng", "stiper"), _A,
     (_U, _K)),
    ("Jalur evakuasi bencana Dieng-Kayugiyang", ("dieng", "kayugiyang"), _A, (_T,)),
    ("Siaga kebakaran hutan Dieng dan Sembungan", ("dieng", "sembungan"), _P, (_T,)),
    ("Pemasaran kentang bersama di Desa Patakbanteng",
     ("patakbanteng", "koperasi_kentang", "poktan_kentang"), _A, (_U,)),
    ("Sekolah lapang petani kentang Patakbanteng", ("patakbanteng", "dinas_pertanian"), _A,
     (_K,)),
    ("Pemasaran kentang antar-kecamatan Patakbanteng-Tlogo", ("patakbanteng", "tlogo"), _A,
     (_U,)),
    ("Pengelolaan homestay Desa Sembungan", ("sembungan", "karang_taruna"), _A, (_U,)),
    ("Pengelolaan tiket wisata Bukit Sikunir", ("sembungan", "bumdes_sembungan"), _A, (_U,)),
    ("Perawatan jalan poros Jojogan-Parikesit", ("jojogan", "parikesit"), _A, (_K,)),
    ("Pendidikan Al-Qur'an anak Desa Jojogan", ("jojogan", "taklim"), _A, (_K,)),
    ("Pengelolaan embung bersama Parikesit-Sikunang", ("parikesit", "sikunang"), _A, (_K,)),
    ("Simpan pinjam modal petani Desa Sikunang", ("sikunang", "ksp_sikunang"), _A, (_U,)),
    ("Kemitraan pemasaran hasil pertanian di Kecamatan Kejajar",
     ("sikunang", "parikesit", "bumdesma"), _A, (_U,)),
    ("Penyertaan modal BUM Desa Bersama Dieng Lestari", ("parikesit", "bumdesma"), _S, (_U,)),
    ("Penanggulangan bencana longsor Sikunang-Sigedang", ("sikunang", "sigedang", "camat"),
     _A, (_T,)),
    ("Pengelolaan air bersih antar-desa Tambi, Buntu dan Sigedang",
     ("tambi", "buntu", "sigedang"), _A, (_K,)),
    ("Kemitraan wisata kebun teh Tambi", ("tambi", "pt_teh"), _A, (_U,)),
    ("Pengadaan pupuk dan benih bersama Desa Tambi", ("tambi", "gapoktan_tambi"), _A, (_U,)),
    ("Budidaya purwaceng Desa Sigedang", ("sigedang", "poktan_purwaceng"), _A, (_U,)),
    ("Sistem keamanan lingkungan Buntu-Campursari", ("buntu", "campursari"), _A, (_T,)),
    ("Pemasaran hasil hortikultura Campursari-Serang", ("campursari", "serang"), _E, (_U,)),
    ("Pendampingan penyusunan RPJM Desa Serang", ("serang", "camat", "pendamping"), _A,
     (_K,)),
    ("Konservasi mata air hulu Serayu di Desa Serang", ("serang", "bpdas"), _A, (_K,)),
    ("Pengelolaan pasar desa bersama Kreo-Surengede", ("kreo", "surengede"), _E, (_U,)),
    ("Pemandu wisata Bukit Sikunir", ("sembungan", "pokdarwis"), _E, (_U,)),
)


def demo_network(*, today: dt.date | None = None) -> dict:
    """The demo's cooperation network in Kabupaten Wonosobo: about thirty agreements drawn
    by hand in Kecamatan Kejajar (see ``_DEMO_AGREEMENTS``) and about 120 generated in the
    other kecamatan, with 40 third parties. Reuses the demo's desa and parties; a second
    call changes nothing. Flushes; the caller commits. Never in production."""
    refuse_in_production()
    today = today or local_today()
    marker = _DEMO_AGREEMENTS[2][0]
    if db.session.scalar(sa.select(Proposal.id).where(Proposal.title == marker)) is not None:
        return {"agreements": 0, "third_parties": 0}
    rng = random.Random(DEMO_SEED)  # noqa: S311 - plausible data, not secrets
    existing = {(name, kind): actor_id for actor_id, name, kind in db.session.execute(
        sa.select(Actor.id, Actor.name, Actor.kind).where(
            Actor.name.in_([spec[0] for spec in _DEMO_CAST.values()])))}
    plan = Plan()
    index = {}
    for key, (name, kind, region) in _DEMO_CAST.items():
        index[key] = len(plan.third_parties)
        plan.third_parties.append(ThirdParty(name, kind, region, existing.get((name, kind))))
    for title, parties, state, bidang in _DEMO_AGREEMENTS:
        desa = [_KEJAJAR[p] for p in parties if p in _KEJAJAR]
        third = [index[p] for p in parties if p in index]
        kind = Kind.PIHAK_KETIGA if third else Kind.ANTAR_DESA
        plan.add(kind, state, title, [b.value for b in bidang], desa, third,
                 agreement_dates(rng, state, today))
    made = write(plan, today=today)
    rest = generate(prefix=DEMO_KABUPATEN, agreements=120, actors=40 - made["third_parties"],
                    seed=DEMO_SEED, today=today, exclude=(DEMO_KECAMATAN,))
    return {"agreements": made["agreements"] + rest["agreements"],
            "third_parties": made["third_parties"] + rest["third_parties"]}
