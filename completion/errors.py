"""What can go wrong with a report, as problems a client can act on."""

from __future__ import annotations

from core.errors import Conflict, DomainError


class ReportSigned(Conflict):
    slug = "report-signed"
    title = "A signed report is never edited: start a correction (a new version)"


class ReportChanged(Conflict):
    slug = "report-changed"
    title = "The report changed since the customer was shown it: show the current version and sign again"


class ReportExists(Conflict):
    slug = "report-exists"
    title = "This visit already has a report"


class ReportNotSigned(Conflict):
    slug = "report-not-signed"
    title = "The report is not signed yet"


class SurveyUnknown(DomainError):
    slug = "survey-unknown"
    status = 404
    title = "This survey link is not valid"


class SurveyExpired(DomainError):
    slug = "survey-expired"
    status = 410
    title = "This survey link has expired"


class SurveyUsed(DomainError):
    slug = "survey-used"
    status = 410
    title = "This survey link has already been used"
