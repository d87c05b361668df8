"""Uploaded files (signed minutes, evidence): checked by content, size and name, stored in
the database by default so that a backup of the database holds them too."""
