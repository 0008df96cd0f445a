"""States and kinds of visits, reports and security devices (SP/SM 2.3, 4.2.4)."""

from __future__ import annotations

from django.db import models


class VisitStatus(models.TextChoices):
    REQUESTED = "requested", "Requested, awaiting authorisation"
    AUTHORISED = "authorised", "Authorised"
    ON_SITE = "on_site", "On site"
    LEFT = "left", "Left the site, reports due"
    AWAITING_RULING = "awaiting_ruling", "Awaiting after-the-fact authorisation"
    CLOSED = "closed", "Closed"


class ReportKind(models.TextChoices):
    """SP 4.2.4: "a report provided by the accessor and by the Access Engineer"."""

    ACCESSOR = "accessor", "Report by the person who accessed"
    ACCESS_ENGINEER = "access_engineer", "Report by the Access Engineer"


class OnSiteRole(models.TextChoices):
    """The access profile a person has on a visit (SM 2.3.2)."""

    ACCESS_ENGINEER = "access_engineer", "Access Engineer"
    SYSTEMS_ADMINISTRATOR = "systems_administrator", "Systems Administrator"
    UNAUTHORISED = "unauthorised", "Not authorised (emergency only)"


class DeviceKind(models.TextChoices):
    RACK_KEY = "rack_key", "Rack key"
    ACCESS_CARD = "access_card", "Access card"
    CODE = "code", "Code"
    OTHER = "other", "Other device"
