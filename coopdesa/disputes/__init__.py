"""Penyelesaian perselisihan: disputes over a kerja sama desa and their settlement.

PP 43/2014 Pasal 148: a dispute is settled first by musyawarah of the parties; one between
villages of one kecamatan is then facilitated and settled by the Camat, one between villages
of different kecamatan of one kabupaten/kota by the Bupati/Wali Kota; that settlement is
final and set down in a berita acara signed by the parties and the official. A dispute with
a third party that the musyawarah does not settle goes to court.
"""
