"""The markdown reporter doctor uses: one escaped row per finding, the summary last."""

from __future__ import annotations

from pipeline.gate.report import markdown
from pipeline.model.results import CheckResult, Result


def test_rows_escape_what_would_break_a_table() -> None:
    results = [
        CheckResult(
            "clusters/a.yaml",
            "doctor.calico_config",
            failures=[Result("ConfigMap/x: a | b <br>\nnext \\ end")],
            warnings=[Result("Node/n: slow")],
        ),
        CheckResult("clusters/a.yaml", "doctor.pool_cidr", successes=1),
        CheckResult("clusters/a.yaml", "doctor.etcd_secret", skipped=[Result("KDD")]),
    ]
    assert markdown.render(results) == (
        "| result | file | check | message |\n"
        "|---|---|---|---|\n"
        "| FAIL | clusters/a.yaml | doctor.calico_config |"
        " ConfigMap/x: a \\| b &lt;br&gt;<br>next \\\\ end |\n"
        "| WARN | clusters/a.yaml | doctor.calico_config | Node/n: slow |\n"
        "| SKIP | clusters/a.yaml | doctor.etcd_secret | KDD |\n"
        "\n"
        "**4 tests, 1 passed, 1 warning, 1 failure, 0 exceptions, 1 skipped**\n"
    )


def test_nothing_to_report_is_the_summary_alone() -> None:
    results = [CheckResult("clusters/a.yaml", "doctor.pool_cidr", successes=1)]
    assert markdown.render(results) == (
        "**1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped**\n"
    )
