"""Physical security: the facility, computers and storage media.

Serves SP/SM 2.1 (facility), 2.2.1 and 2.2.1.1 (computers, inventory, acquisition),
2.2.2 (service), 2.2.3 (media: provisioning, storage, retirement) and, through the
four-eyes rule for hardware maintenance, SP 4.1. Visits and codes are the `visits` app.
"""
