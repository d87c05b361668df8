"""The append-only audit trail.

Every change and transition of a cooperation proposal is logged with who, when, what and
the before/after values as JSON. Each entry carries the SHA-256 of its own content and of
the previous entry, so changing, inserting or deleting any entry breaks the chain at that
point; ``flask coopdesa audit verify`` names the first broken entry. This is the trail the
auditors (inspektorat, camat, kabupaten) rely on when they read a jurisdiction.
"""
