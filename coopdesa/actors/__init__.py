"""The registry of parties and community groups.

UU 6/2014 Pasal 91: a Desa cooperates with other Desa and with third parties (pihak
ketiga). Seed 002 names three actors (business, government, civil society) and the
community groups whose role must be recorded: Organisasi Tani Lokal, Kelompok Nelayan,
Masyarakat Adat, Organisasi Keagamaan, Organisasi Perempuan, Organisasi Kepemudaan, NGO.
"""
