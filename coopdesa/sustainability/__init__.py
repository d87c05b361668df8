"""Sustainability assessments and stakeholder maps (seed 002, "keberlanjutan").

Cooperation is checked on four sustainabilities (ecological, socio-economic, community,
institutional) and on its principles: mutual benefit (saling menguntungkan), independence
(memandirikan: no new dependency on a third party) and net benefit between villages; for a
third-party cooperation on the village's initiative, the cost-benefit analysis and the
environmental / spatial-planning check of Permendagri 96/2017. Criteria are data (seeded by
a migration, extended by an admin). Seed 002 also lists the community groups whose part in
planning, deliberation and benefit must be mapped, and seven questions for mapping them.
"""
