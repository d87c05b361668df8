"""The stage of a desa on the seeds' scale of social networks (seed 000, "Tahapan Membangun
Jaringan Sosial"):

- **bonding** (*ikatan*, Tahap I): the village has no partner in an agreement in force; its
  network is still closed on its own community;
- **bridging** (*jembatan*, Tahap II): it cooperates with a few partners, "dua atau tiga
  komunitas", around a shared need;
- **networking** (*jejaring*, Tahap III): many partners of diverse kinds ("banyak elemen
  dengan latar belakang beragam"), reaching beyond its own kecamatan.

The rule counts, for each desa, its *active partners* (the other parties of its agreements
that are signed, in force or postponed), how many distinct partner categories they belong to
(desa, dunia usaha, pemerintah, masyarakat sipil, kelompok masyarakat) and how many of them
sit outside the desa's own kecamatan. The thresholds come from the setting
``COOPDESA_NETWORK_STAGE_RULE`` (see docs/configuration.md); the defaults are in
:class:`StageRule`.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, fields

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext


class Stage(enum.StrEnum):
    BONDING = "bonding"
    BRIDGING = "bridging"
    NETWORKING = "networking"

    @property
    def label(self) -> str:
        return str(STAGE_LABELS[self])

    @property
    def colour(self) -> str:
        return STAGE_COLOURS[self]


STAGE_LABELS = {
    Stage.BONDING: _l("Ikatan (bonding)"),
    Stage.BRIDGING: _l("Jembatan (bridging)"),
    Stage.NETWORKING: _l("Jejaring (networking)"),
}
#: Okabe-Ito colours, distinguishable with colour blindness and in greyscale print.
STAGE_COLOURS = {Stage.BONDING: "#999999", Stage.BRIDGING: "#E69F00",
                 Stage.NETWORKING: "#009E73"}


@dataclass(frozen=True)
class StageRule:
    """Thresholds of the rule. A desa is at *networking* when it has at least
    ``networking_partners`` active partners of at least ``networking_kinds`` categories, at
    least ``networking_outside`` of them outside its kecamatan; else at *bridging* with at
    least ``bridging_partners`` active partners; else at *bonding*."""

    bridging_partners: int = 1
    networking_partners: int = 4
    networking_kinds: int = 2
    networking_outside: int = 1

    @classmethod
    def from_setting(cls, value: str | dict | None) -> StageRule:
        """The rule from a JSON object (or dict) naming any of the fields; raises ValueError
        naming the bad key, so a wrong setting stops the start-up with a clear message."""
        if value in (None, ""):
            return cls()
        data = json.loads(value) if isinstance(value, str) else dict(value)
        if not isinstance(data, dict):
            raise ValueError("COOPDESA_NETWORK_STAGE_RULE must be a JSON object")
        known = {f.name for f in fields(cls)}
        for key, number in data.items():
            if key not in known:
                raise ValueError(f"COOPDESA_NETWORK_STAGE_RULE: unknown key {key!r}; "
                                 f"known: {', '.join(sorted(known))}")
            if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                raise ValueError(f"COOPDESA_NETWORK_STAGE_RULE: {key} must be a whole "
                                 "number of 0 or more")
        rule = cls(**data)
        if rule.bridging_partners < 1 or rule.networking_partners < rule.bridging_partners:
            raise ValueError("COOPDESA_NETWORK_STAGE_RULE: need 1 <= bridging_partners "
                             "<= networking_partners")
        return rule

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def current_rule() -> StageRule:
    from flask import current_app

    return current_app.extensions["coopdesa.network_rule"]


def stage_of(partners: int, kinds: int, outside: int, rule: StageRule) -> Stage:
    if (partners >= rule.networking_partners and kinds >= rule.networking_kinds
            and outside >= rule.networking_outside):
        return Stage.NETWORKING
    if partners >= rule.bridging_partners:
        return Stage.BRIDGING
    return Stage.BONDING


def stage_reason(partners: int, kinds: int, outside: int, rule: StageRule) -> str:
    """Why the desa has its stage, in plain words: the counts, then what the next stage
    asks for."""
    stage = stage_of(partners, kinds, outside, rule)
    counts = _("%(partners)s, %(kinds)s, %(outside)s di luar kecamatannya",
               partners=ngettext("%(num)s mitra aktif", "%(num)s mitra aktif", partners),
               kinds=ngettext("%(num)s jenis mitra", "%(num)s jenis mitra", kinds),
               outside=outside)
    if stage is Stage.NETWORKING:
        return _("%(counts)s: memenuhi aturan jejaring (sekurang-kurangnya %(p)s mitra, "
                 "%(k)s jenis, %(o)s di luar kecamatan).", counts=counts,
                 p=rule.networking_partners, k=rule.networking_kinds,
                 o=rule.networking_outside)
    missing = []
    if partners < rule.networking_partners:
        missing.append(_("%(n)s mitra lagi", n=rule.networking_partners - partners))
    if kinds < rule.networking_kinds:
        missing.append(_("%(n)s jenis mitra lagi", n=rule.networking_kinds - kinds))
    if outside < rule.networking_outside:
        missing.append(_("%(n)s mitra lagi dari luar kecamatan",
                         n=rule.networking_outside - outside))
    if stage is Stage.BRIDGING:
        return _("%(counts)s. Untuk jejaring masih perlu %(missing)s.", counts=counts,
                 missing=", ".join(missing))
    return _("Belum ada mitra dalam kerja sama yang berlaku: jaringan masih tertutup pada "
             "komunitasnya sendiri. Tahap jembatan dimulai dengan %(n)s mitra.",
             n=rule.bridging_partners)
