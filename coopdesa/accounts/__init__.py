"""Accounts, roles and their scopes, BKADs and API tokens.

Roles follow the actors of UU 6/2014 and PP 43/2014: the sekretaris desa drafts for one
desa; a BKAD (Badan Kerja Sama Antar-Desa, PP 43/2014 Pasal 144) reviews for the villages
it joins; an auditor (inspektorat, camat, kabupaten) reads a jurisdiction; the admin runs
the installation.
"""
