"""Public dissemination (penyebarluasan) of signed agreements, PP 43/2014 Pasal 88: the
peraturan bersama is made known in every party village. A page per desa, without login,
lists what was signed, and an administrator may withhold a document where the law
requires it (UU 14/2008 Pasal 17), with a recorded reason."""
