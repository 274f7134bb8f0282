"""The Content-Security-Policy is on in the browser tests too, and the workspace works under it:
no page logs a CSP violation (htmx, KaTeX, Chart.js, Swagger UI and the admin all run), while a
script injected into the page is refused."""
import pytest

from .conftest import login

pytestmark = pytest.mark.browser


def watch(page):
    problems = []
    page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}") if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return problems


def test_pages_work_under_the_csp_and_injected_scripts_do_not(live_server, new_page, make_user, make_problem):
    from curation.models import Selection

    user = make_user("cspadmin", "admin")
    user.is_staff = True
    user.is_superuser = True
    user.save()
    problems = [make_problem(bucket=b) for b in ["easy", "hard", "hard", "medium"]]
    selection = Selection.objects.create(name="csp selection")
    selection.problems.add(*problems[1:])
    page = new_page()
    violations = watch(page)
    login(page, live_server.url, "cspadmin")

    response = page.goto(f"{live_server.url}/problems/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src-elem 'self'" in csp
    page.fill("#id_q", "Browser problem 2")  # htmx request and swap
    page.wait_for_function("() => document.querySelector('#result-count').innerText.startsWith('1 problem')")

    # An inline script added to the page is refused by the browser.
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.appendChild(s); }")
    page.wait_for_timeout(200)
    assert page.evaluate("typeof window.__inline") == "undefined"
    assert any("inline script" in v for v in violations), violations
    violations.clear()

    page.goto(f"{live_server.url}/problems/{problems[0].pk}/")
    page.wait_for_selector("#statement .katex")  # KaTeX ran from its static files
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-buckets'))")
    # The selection picker submits on change from static JS (it used an inline onchange).
    page.select_option("#id_selection", str(selection.pk))
    page.wait_for_url(f"**/dashboard/?selection={selection.pk}")
    page.goto(f"{live_server.url}/pipeline/", timeout=60_000)  # its first render imports every importer
    page.goto(f"{live_server.url}/account/tokens/")
    page.fill("#id_name", "browser token")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#new-token-value")
    assert page.locator("#new-token-value").inner_text().startswith("mc_")
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)  # Swagger UI from local files, schema loaded
    page.goto(f"{live_server.url}/admin/")
    page.wait_for_selector("#content")
    page.goto(f"{live_server.url}/no/such/page/")
    assert page.locator("h1").inner_text() == "Not found"
    assert violations == [], violations
