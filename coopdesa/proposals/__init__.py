"""Cooperation proposals and their legal lifecycle.

- UU 6/2014 Pasal 91-93: a Desa cooperates with other Desa (antar-Desa: a Peraturan Bersama
  Kepala Desa, agreed in a musyawarah antar-Desa and carried out by a BKAD, Pasal 92) or with
  a third party (pihak ketiga: deliberated in the Musyawarah Desa, Pasal 93(2)). Fields of
  inter-village cooperation: Pasal 92(1) a-c.
- PP 43/2014 Pasal 143: the eight contents every agreement carries (ruang lingkup, bidang,
  tata cara dan ketentuan pelaksanaan, jangka waktu, hak dan kewajiban, pendanaan, tata cara
  perubahan/penundaan/pembatalan, penyelesaian perselisihan); Pasal 147: the grounds for
  ending (a-i); Pasal 148: the dispute route (Camat within one kecamatan, Bupati/Wali Kota
  across kecamatan, the courts for an unresolved third-party dispute).
- Permendagri 96/2017: antar-Desa only within one kabupaten/kota (Pasal 3); stages
  persiapan, penawaran, pembahasan, penandatanganan, pelaksanaan, pelaporan; a third-party
  cooperation on the village's initiative adds a cost-benefit analysis and a Kerangka Acuan
  Kerja.
"""
