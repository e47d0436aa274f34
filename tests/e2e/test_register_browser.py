"""In a real browser: the bureau walks the permit import page: a preview of a bad file shows
its row errors by line, the sample file imports, its record opens, and the public disclosure
shows the permit's EIA approval, outlets, noise and solid waste."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import log_in, shot
from tests.integration.register.test_register import PA, SAMPLE, build_area

pytestmark = pytest.mark.e2e


def test_bureau_imports_permits(page, live, tmp_path) -> None:  # type: ignore[no-untyped-def]
    build_area(live.platform)
    bad = tmp_path / "bad.csv"
    bad.write_text(SAMPLE.read_text(encoding="utf-8").replace(",D4411,", ",D9999,", 1),
                   encoding="utf-8")
    log_in(page, "officer")
    page.goto("/bureau/permits")
    page.set_input_files("#permit-import-form input[name=file]", str(bad))
    page.click("#permit-import-submit")  # "preview only" is checked by default
    page.wait_for_load_state()
    errors = page.locator("#permit-row-errors").inner_text()
    assert "industry_code" in errors and "2" in errors
    shot(page, "permit-import-preview")
    page.set_input_files("#permit-import-form input[name=file]", str(SAMPLE))
    page.uncheck("#permit-import-form input[name=preview]")
    page.click("#permit-import-submit")
    page.wait_for_load_state()
    assert "/bureau/permits/imports/" in page.url
    assert "permits-sample.csv" in page.locator("h1").inner_text()
    page.goto("/bureau/permits")
    assert "permits-sample.csv" in page.locator("#import-history").inner_text()
    page.goto(f"/public/enterprises/{PA[:18]}")
    section = page.locator(f"#register-{PA}").inner_text()
    for text in ("渝环准〔2024〕12号", "主要排放口", "无组织排放", "粉煤灰", "昼间"):
        assert text in section
    shot(page, "permit-register-public")
