"""Browser tests: headless Chromium (Debian's, never a downloaded one) against pytest-django's live_server."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")  # module: the sync API keeps an event loop running in this thread while open
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (set PLAYWRIGHT_CHROMIUM)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def eager_celery():
    """Bulk jobs run inline (after commit, in the server thread) so the browser can watch them finish."""
    from microcoder_site.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def make_user(transactional_db):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from curation.services.accounts import roles_ensure

    def make(username: str, role: str = "curator"):
        roles_ensure()
        user = get_user_model().objects.create_user(username=username, password="pw-" + username)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def make_problem(transactional_db):
    import itertools

    from curation.models import Problem, Source

    counter = itertools.count(1)

    def make(**kwargs):
        n = next(counter)
        source = Source.objects.get_or_create(name="browsersrc")[0]
        values = {
            "source": source, "external_id": f"b{n}", "title": f"Browser problem {n}",
            "statement": f"Statement {n}: print $a_i + b_i$ for each $i$.", "content_hash": f"bh{n}",
            "platform": "codeforces",
            **{f"score_{d}": 5.0 for d in ("algorithmic_thinking", "implementation", "mathematics", "data_structures", "edge_cases")},
            "weighted_score": 5.0,
        }
        values.update(kwargs)
        return Problem.objects.create(**values)

    return make


def login(page, base_url: str, username: str):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
