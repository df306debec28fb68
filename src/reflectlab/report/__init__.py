"""The HTML report and trace viewer: one self-contained file rendered from the run store.

The file opens offline (styles, scripts, the vendored Vega/Vega-Lite and all data are inline),
shows the run's configuration and provenance (oracle assistance in a warning style), the
per-strategy table of ``reflectlab show --json``, plots of accuracy against cost, accuracy by
round and answer flips per round, the paired comparisons' verdicts, and a trace viewer that
pages through every (strategy, sample) and opens each step of one on demand. Rendering reads
the store only; it never calls a model.

Example::

    from reflectlab.report import write_report
    from reflectlab.store import Store
    write_report(Store(), run_id, "report.html")
"""

from reflectlab.report._charts import build_charts
from reflectlab.report._render import render_report, report_data, write_report
from reflectlab.report._traces import TracePayload, build_trace_payload, decode_block

__all__ = [
    "TracePayload",
    "build_charts",
    "build_trace_payload",
    "decode_block",
    "render_report",
    "report_data",
    "write_report",
]
