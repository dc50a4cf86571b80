"""The HTML report: one self-contained page per audit or compare result.

:func:`render_html` turns a result document (the plain dict written to ``result.json``) into
HTML; :func:`write_report` writes it atomically. The page reads only that document, so the JSON
output, the report and the gate cannot disagree. It opens offline: CSS and charts (SVG, drawn
with matplotlib on explicit figures) are inline, there are no remote assets and no face
images, every group name is escaped, and the same document gives the same bytes.
"""

from __future__ import annotations

from fairsuite.report._render import render_html, write_report
from fairsuite.report._sweep import render_sweep_html, write_sweep_report

__all__ = ["render_html", "write_report", "render_sweep_html", "write_sweep_report"]
