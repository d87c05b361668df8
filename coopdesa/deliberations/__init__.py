"""Musyawarah records: the deliberations that make a proposal binding.

- UU 6/2014 Pasal 54 ayat (2) huruf c and Pasal 93 ayat (2): kerja sama is a strategic
  matter of the Musyawarah Desa, held by the BPD and facilitated by the Pemerintah Desa;
  cooperation with a third party must be deliberated there.
- UU 6/2014 Pasal 92 ayat (2)-(3): inter-village cooperation is agreed in a musyawarah
  antar-Desa of the party villages' delegates.
- PP 43/2014 Pasal 80 (as amended): who attends (Pemerintah Desa, BPD, unsur masyarakat);
  decisions by mufakat first, else by vote. Pasal 144: gender justice in the BKAD.
- The quorum (two thirds of invitees by default) is guidance, not statute: it is data
  (QuorumRule), changeable by an admin, and copied onto each meeting when recorded.
"""
