from __future__ import annotations

import pytest

from secman.physical import services


@pytest.fixture
def rack(org):
    """A computer with a complete inventory, in service, as the Access team runs it."""
    computer = services.create_computer(
        actor=org.axel, authority="SP 2.2.1.1", asset_tag="CA-0001", nickname="signer",
        vendor="Acme", model="R1", serial_number="SN-1", maintenance_contact="Acme support",
        rack_location="Rack 3, U12", intended_use="signing server",
        acquisition_notes="Bought anonymously from stock, sealed box.")
    services.inventory_computer(actor=org.axel, computer=computer)
    return services.put_in_service(actor=org.axel, computer=computer,
                                   legal_owner="Hosting Foundation")
