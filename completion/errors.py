"""What can go wrong with a report, as problems a client can act on."""

from __future__ import annotations

from core.errors import Conflict


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
