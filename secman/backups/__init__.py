"""Backups, key escrow and data retention (SP/SM 4.3, 4.4): backup jobs per system and
the sets made of them, by two people, encrypted twice and verified by two Systems
Administrators before they are stored; restic checks that really restore; the sealed
envelopes of the keys; examinations of a backup only under an Arbitration case; and
secman's own backup and restore (`secman backup create|restore`).

secman is not a backup program: restic and GnuPG do the work, secman records, enforces,
verifies and proves."""
