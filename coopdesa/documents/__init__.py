"""Agreement documents: the Peraturan Bersama Kepala Desa and the perjanjian bersama, the
berita acara of each musyawarah, the review record and the sustainability annex; signing,
the final PDF/A-3b, public verification and the auditor's export.

Law: UU 6/2014 Pasal 91-93 (kerja sama Desa); PP 43/2014 Pasal 143 (the eight contents of
an agreement), Pasal 144-146 (signing, carrying out, changing and ending), Pasal 148
(disputes); Permendagri 96/2017 Pasal 7-12 (antar-Desa: Peraturan Bersama Kepala Desa,
BKAD) and Pasal 14-24 (pihak ketiga: perjanjian bersama); UU 10/2020 (Bea Meterai:
Rp10.000 on an agreement between parties). See docs/architecture.md, section Documents.
"""
