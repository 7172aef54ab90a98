"""The three demo roles' journeys in a real, headless Chromium (Debian's, through Selenium).

The security officer logs a breach and assesses it; the manager opens the SMS link on a
375 px phone and acknowledges, then records the GBA notification; the DPO downloads the
notification and the register. Every page they visit is scanned with axe-core (no serious or
critical violation) and, on the phone, must not scroll sideways. A failing test leaves a
screenshot and the page's HTML in BROWSER_ARTIFACTS (default: test-artifacts/);
SCREENSHOTS=1 writes the README's screenshots (docs/screenshots/).

Without chromium and chromedriver the tests are skipped, except in CI (CI=true), where
`.ci/run` installs them and their absence is a failure.
"""

import os
import re
import shutil
import time
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from incidents import workflow
from incidents.models import AssessmentDraft, Controller, Incident
from notifications.models import Message
from tests.test_subjects import own_breach as own_breach  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", ROOT / "test-artifacts"))
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PHONE, DESKTOP = (375, 812), (1280, 900)

if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        pytest.fail("CI needs chromium and chromium-driver (.ci/run installs them)", pytrace=False)
    pytest.skip("chromium and chromedriver are not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

# axe-core as selenium-axe-python ships it.
AXE_SOURCE = (files("selenium_axe_python") / "axe-core" / "axe.min.js").read_text(encoding="utf-8")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The pages do not depend on the database: CI runs them once, on SQLite (BROWSER_ON_ANY_DB=1
    # runs them on PostgreSQL too).
    pytest.mark.skipif(
        connection.vendor != "sqlite" and not os.environ.get("BROWSER_ON_ANY_DB"),
        reason="browser tests run on SQLite",
    ),
]


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """One Chromium for the module's tests (starting one took about a second a test); each
    test gets it back clean (the `browser` fixture)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=en"]:
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.prompt_for_download": False,
            "plugins.always_open_pdf_externally": True,  # a PDF link downloads the file
            "intl.accept_languages": "en",
        },
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    # axe-core is in every page from its first line (sending its 500 kB to each page that is
    # checked took 0.1 s a page).
    driver.execute_cdp_cmd("Page.enable", {})
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": AXE_SOURCE})
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium, request, tmp_path):
    driver = chromium
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    driver.downloads = tmp_path
    driver.get("about:blank")
    driver.delete_all_cookies()
    as_desktop(driver)
    yield driver
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / f"{request.node.name}.png"))
        (ARTIFACTS / f"{request.node.name}.html").write_text(driver.page_source)
    driver.get("about:blank")  # no page of this test polls the next one's server
    driver.delete_all_cookies()


def as_phone(driver):
    """A real 375-px viewport: headless Chromium keeps a window at least 500 px wide, so the
    phone is emulated (DevTools' device metrics, as Chromium's mobile emulation does)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True},
    )
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})


def as_desktop(driver):
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
    driver.set_window_size(*DESKTOP)


@pytest.fixture
def site(live_server, settings, default_policy):
    settings.PUBLIC_BASE_URL = live_server.url  # the links in SMS point at this server
    return live_server.url


MARKUP = '<meta http-equiv="refresh" content="0;url=/login/"><b id="injected">x</b>'


def visit(driver, url):
    driver.get(url)
    check_page(driver)


def check_page(driver):
    """What every page must pass: axe-core without serious or critical violations, and on a
    phone no sideways scrolling."""
    # Only the violations come back (not every rule that passed, with its nodes).
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run({resultTypes: ['violations']}).then(results => done(results.violations))"
    )
    serious = [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']][:5]}"
        for v in violations
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == [], f"{driver.current_url}: {serious}"
    width = driver.execute_script("return document.documentElement.scrollWidth")
    viewport = driver.execute_script("return window.innerWidth")
    assert width <= viewport, f"{driver.current_url} scrolls sideways: {width} > {viewport} px"


def screenshot(driver, name):
    if os.environ.get("SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def fill(driver, values):
    for name, value in values.items():
        field = driver.find_element(By.NAME, name)
        if field.tag_name == "select":
            Select(field).select_by_value(str(value))
        elif field.get_attribute("type") == "checkbox":
            if field.is_selected() != bool(value):
                field.click()
        else:
            field.clear()
            field.send_keys(str(value))


def tick(driver, name, value):
    driver.find_element(By.CSS_SELECTOR, f"input[name={name}][value='{value}']").click()


def submit(
    driver, form_selector="main form.stacked", button="button[type=submit]:not([name=draft])"
):
    form = driver.find_element(By.CSS_SELECTOR, form_selector)
    invalid = driver.execute_script(
        "return [...arguments[0].querySelectorAll(':invalid')].map(e => e.name)", form
    )
    assert invalid == [], f"the browser would refuse to send {invalid}"
    driver.execute_script("window.beforeSubmit = true")
    form.find_element(By.CSS_SELECTOR, button).click()
    next_page_loaded(driver)


def waiting(driver, seconds, **options):
    """Selenium's wait, looking every 50 ms (its default half-second added a quarter of a
    second to each wait: 6 s of the browser tests)."""
    return WebDriverWait(driver, seconds, poll_frequency=0.05, **options)


def next_page_loaded(driver, seconds=20):
    """A new document replaced the one marked `beforeSubmit`, and it has loaded."""
    waiting(driver, seconds, ignored_exceptions=[WebDriverException]).until(
        lambda d: d.execute_script(
            "return window.beforeSubmit === undefined && document.readyState === 'complete'"
        )
    )


def signed_in(driver, site, user):
    """The person's session without going through the login pages (the first walk does): a
    session as the login and the second factor would have made it, given to the browser as
    its cookie. Two seconds a login less for tests about something else."""
    from django.conf import settings
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    driver.get(f"{site}/login/")  # a page of the site, for its cookie
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    driver.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": cookie, "path": "/"})
    driver.get(f"{site}/")  # where the login would have led: the dashboard


def log_in(driver, site, user, password="pw"):
    driver.get(f"{site}/login/")
    fill(driver, {"username": user.username, "password": password})
    submit(driver)
    if "/two-factor/" in driver.current_url:  # the code the person's app shows now
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        check_page(driver)
        fill(driver, {"code": f"{code:0{device.digits}d}"})
        submit(driver)


def wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"still not true after {seconds} s: {condition}")


def test_security_logs_and_assesses_the_manager_acknowledges_on_a_phone_and_files(
    browser, site, security, manager, dpo, controller, categories, assessment_values, settings
):
    settings.DRAFT_SAVED_AFTER_SECONDS = 0.5  # the draft kept half a second after typing
    for person in (manager, dpo):
        TOTPDevice.objects.create(user=person, name="phone", confirmed=True)

    # The security officer logs the breach the minute they hear of it.
    log_in(browser, site, security)
    check_page(browser)  # the dashboard
    visit(browser, f"{site}/incidents/new/")
    fill(browser, {"title": "Phished admin account", "description": "Mailbox forwarded."})
    # The controller by the first letters of its name: the picker asks the server.
    browser.find_element(By.NAME, "controllers_add").send_keys("bakkerij")
    offer = waiting(browser, 30).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR, ".controller-picker .matches button")
    )
    assert offer.text == f"Add: {controller.name} ({controller.enterprise_number})"
    check_page(browser)  # the list of matches, too
    offer.click()
    picked = browser.find_element(
        By.CSS_SELECTOR, f"input[name=controllers][value='{controller.pk}']"
    )
    assert picked.is_selected()
    submit(browser)
    incident = wait_for(lambda: Incident.objects.filter(title="Phished admin account").first())
    assert browser.current_url.endswith(f"/incidents/{incident.pk}/")
    check_page(browser)
    assert incident.reference in browser.find_element(By.TAG_NAME, "h1").text
    screenshot(browser, "incident-page")

    # … and assesses it.
    browser.find_element(By.LINK_TEXT, "Assess").click()
    check_page(browser)
    typed = {name: value for name, value in assessment_values.items() if value not in (0, False)}
    typed.pop("enisa_malicious")  # not asked: it follows the cause ("malicious")
    # Each kind of breach is asked once: how integrity was hit shows only once it is ticked.
    integrity_grade = browser.find_element(By.CSS_SELECTOR, '.field[data-field="enisa_integrity"]')
    assert not integrity_grade.is_displayed()
    fill(browser, {"integrity": True})
    assert integrity_grade.is_displayed()
    fill(browser, {"integrity": False})
    fill(browser, typed)
    # Saved as one types: a moment after the last key, the page says the draft is kept.
    waiting(browser, 30).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR, ".draft-status").text.startswith(
            "Draft saved at "
        )
    )
    assert AssessmentDraft.objects.get(incident=incident).data["consequences"] == [
        assessment_values["consequences"]
    ]
    # A step saved on its own comes back where it was, with what was typed.
    submit(browser, button="#step-3 button[name=draft]")
    assert browser.current_url.endswith("#step-3")
    assert "Draft saved at" in browser.find_element(By.CSS_SELECTOR, ".messages").text
    consequences = browser.find_element(By.NAME, "consequences")
    assert consequences.get_attribute("value") == assessment_values["consequences"]
    assert Incident.objects.get(pk=incident.pk).state == "detected"
    tick(browser, "data_categories", categories[0].pk)
    # The ENISA score as it is filled in: DPC 1 x EI 1.00 + 0.50 + 0.50 (malicious, the cause).
    score = browser.find_element(By.CSS_SELECTOR, ".enisa-score").text
    assert score == "Severity now: 2.00 · Medium"
    submit(browser)
    # A field forgotten: the page says so at the top, with a link to the field.
    summary = browser.find_element(By.CSS_SELECTOR, ".error-summary")
    assert browser.switch_to.active_element == summary
    check_page(browser)
    summary.find_element(By.PARTIAL_LINK_TEXT, "Categories of data subjects").click()
    tick(browser, "subject_categories", categories[1].pk)
    submit(browser)
    wait_for(lambda: Incident.objects.get(pk=incident.pk).state == "assessed")
    check_page(browser)
    assert "2.00 · Medium" in browser.find_element(By.CSS_SELECTOR, ".severity").text

    # The manager's phone: the SMS link, 375 px wide, one tap.
    sms = wait_for(
        lambda: Message.objects.filter(incident=incident, recipient=manager, channel="sms").first()
    )
    link = re.search(r"https?://\S+/ack/\S+/", sms.text).group(0)
    browser.delete_all_cookies()
    as_phone(browser)
    visit(browser, link)
    assert browser.execute_script("return window.innerWidth") == PHONE[0]
    browser.execute_script("window.beforeSubmit = true")
    browser.find_element(By.CSS_SELECTOR, "button.big").click()
    next_page_loaded(browser)
    assert "Acknowledged by" in browser.find_element(By.TAG_NAME, "main").text
    check_page(browser)
    screenshot(browser, "acknowledged-on-a-phone")
    assert incident.acknowledgements.filter(user=manager).exists()

    # Then, at the desk, the manager records the GBA notification.
    as_desktop(browser)
    log_in(browser, site, manager)
    visit(browser, f"{site}/incidents/{incident.pk}/")
    browser.find_element(By.LINK_TEXT, "Record the GBA notification").click()
    check_page(browser)
    fill(browser, {"reference": "DBN-2026-0042"})
    submit(browser)
    wait_for(lambda: Incident.objects.get(pk=incident.pk).state == "gba_notified")
    check_page(browser)

    # The DPO downloads the notification and the register.
    browser.delete_all_cookies()
    signed_in(browser, site, dpo)
    visit(browser, f"{site}/incidents/{incident.pk}/")
    browser.find_element(By.PARTIAL_LINK_TEXT, "NL").click()
    pdf = wait_for(lambda: next(browser.downloads.glob("*.pdf"), None))
    assert pdf.read_bytes().startswith(b"%PDF")
    visit(browser, f"{site}/register/")
    screenshot(browser, "register")
    browser.find_element(By.PARTIAL_LINK_TEXT, "CSV").click()
    csv = wait_for(lambda: next(browser.downloads.glob("*.csv"), None))
    assert incident.reference in csv.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("width", [PHONE[0], DESKTOP[0]])
def test_every_page_of_an_incident_fits_the_screen_and_passes_axe(
    browser, site, manager, dpo, incident_in, width, controller
):
    """On a 375 px phone and a 1,280 px desk: the dashboard, an incident with its alerts,
    obligations and timeline, each form, the register and the controllers, and the page of a
    digest's acknowledgement link."""
    from django.utils import timezone

    from notifications.models import Firing
    from notifications.tasks import dispatch

    incident = incident_in("assessed", hours_ago=30)  # overdue: the loudest page there is
    # Markup typed into the free texts stays text: no element appears, no page redirects.
    Incident.objects.filter(pk=incident.pk).update(discovered_how=MARKUP)
    incident.assessment.__class__.objects.filter(incident=incident).update(consequences=MARKUP)
    followed = incident_in("gba_notified")
    workflow.update_facts(followed.pk, manager, {"description": "More laptops were stolen."})
    pair = [incident_in("detected"), incident_in("detected")]
    Firing.objects.filter(incident__in=pair, step__position=2).update(due_at=timezone.now())
    dispatch()  # step 2 of both at once: one SMS to the manager lists both
    digest = Message.objects.get(recipient=manager, channel="sms", also_for__incident=pair[1])
    ack = re.search(r"/ack/\S+/", digest.text).group(0)
    TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    # The controller asked Conitro to inform its people (a draft with its preview), the
    # incident is significant under NIS2 (its report's page), and a public notice.
    from datetime import timedelta

    from incidents.models import Regime, RegimeRule
    from subjects.models import Communication
    from subjects.texts import defaults

    Controller.objects.filter(pk=controller.pk).update(subjects_informed_by_conitro=True)
    # (A browser test's database is flushed between tests: the seeded NIS2 regime is gone.)
    nis2 = Regime.objects.create(code="nis2", name_en="NIS2", authority="CCB")
    warning = RegimeRule.objects.create(
        regime=nis2, name_en="Early warning", anchor="aware", delay=timedelta(hours=24)
    )
    workflow.update_facts(incident.pk, manager, {"regimes": [nis2]})
    notice = Communication.objects.create(
        incident=followed,
        controller=controller,
        created_by=manager,
        texts=defaults(followed, controller),
        status="published",
        finished_at=timezone.now(),
    )
    if width == PHONE[0]:
        as_phone(browser)
    signed_in(browser, site, manager)
    assert browser.execute_script("return window.innerWidth") == width
    check_page(browser)
    if width == PHONE[0]:
        screenshot(browser, "dashboard-on-a-phone")
    for path in [
        f"/incidents/{incident.pk}/",
        f"/incidents/{incident.pk}/assess/",
        f"/incidents/{incident.pk}/edit/",
        f"/incidents/{incident.pk}/notify_gba/",
        f"/incidents/{incident.pk}/controllers/{controller.pk}/",  # its own facts
        f"/incidents/{followed.pk}/gba_follow_up/",  # a change after its filing
        f"/incidents/{incident.pk}/dismiss/",
        f"/incidents/{incident.pk}/notices/",
        f"/incidents/{incident.pk}/texts/fr/",
        f"/incidents/{incident.pk}/subjects/{controller.pk}/",
        f"/incidents/{incident.pk}/regimes/{warning.pk}/",
        f"/notice/{notice.public_key}/?lang=fr",
        "/incidents/new/",
        "/register/",
        "/controllers/",
        "/account/",
        "/account/password/",
        ack,
    ]:
        visit(browser, site + path)
        assert browser.find_elements(By.ID, "injected") == [], path
        assert browser.current_url == site + path, path  # no <meta refresh> took it away
    assert "2 breaches" in browser.find_element(By.TAG_NAME, "h1").text


def test_a_double_click_or_the_back_button_and_a_resend_log_one_incident(browser, site, security):
    from selenium.webdriver.common.action_chains import ActionChains

    signed_in(browser, site, security)
    browser.get(f"{site}/incidents/new/")
    fill(browser, {"title": "Sent twice", "description": "Impatient finger."})
    button = browser.find_element(By.CSS_SELECTOR, "main form.stacked button[type=submit]")
    ActionChains(browser).double_click(button).perform()
    incident = wait_for(lambda: Incident.objects.filter(title="Sent twice").first())
    waiting(browser, 10).until(lambda d: d.current_url.endswith(f"/{incident.pk}/"))
    browser.back()  # the form again, as it was sent
    waiting(browser, 10).until(lambda d: d.current_url.endswith("/incidents/new/"))
    assert browser.find_element(By.NAME, "title").get_attribute("value") == "Sent twice"
    submit(browser)
    assert browser.current_url.endswith(f"/{incident.pk}/")
    assert "already sent" in browser.find_element(By.TAG_NAME, "main").text
    assert Incident.objects.filter(title="Sent twice").count() == 1
    assert incident.firings.filter(step__position=1).count() == 1  # paged once


def test_the_dashboard_shows_a_new_incident_and_the_overdue_count_without_a_reload(
    browser, site, settings, security, manager
):
    from datetime import timedelta

    from django.utils import timezone

    settings.DASHBOARD_REFRESH_SECONDS = 1
    TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    signed_in(browser, site, manager)
    assert "overdue" not in browser.title
    late = workflow.log_incident(
        security,
        title="Found in an old ticket",
        description="d",
        aware_at=timezone.now() - timedelta(hours=25),
    )
    wait_for(lambda: late.reference in table_text(browser), 15)
    assert browser.title.startswith("(1 overdue) Open incidents")
    settings.DASHBOARD_REFRESH_SECONDS = 600  # the next pages stand still for the checks
    # Search and filters: by words, "overdue only".
    browser.find_element(By.CSS_SELECTOR, "details.filters-box summary").click()
    fill(browser, {"q": "ticket", "overdue": True})
    submit(browser, "main form.dashboard-filters")
    assert late.reference in table_text(browser)
    check_page(browser)
    fill(browser, {"q": "no such words"})
    submit(browser, "main form.dashboard-filters")
    assert late.reference not in table_text(browser)


def table_text(driver):
    """Read at once: the table is swapped while the page is open."""
    return driver.execute_script("return document.getElementById('dashboard-table').innerText")


def test_on_a_phone_a_colleagues_change_and_an_expired_session_lose_nothing(
    browser, site, security, manager, new_incident, settings
):
    """Sam corrects the description while Mia changes it too: the conflict page shows hers
    beside his, and his is saved when he sends it again. Then his session ends while he types:
    the login says why, and what he typed is offered back."""
    from django.contrib.sessions.models import Session

    incident = new_incident()
    as_phone(browser)
    signed_in(browser, site, security)
    visit(browser, f"{site}/incidents/{incident.pk}/edit/")
    workflow.update_facts(incident.pk, manager, {"description": "Mia's words."})
    fill(browser, {"description": "Sam's words."})
    submit(browser)
    check_page(browser)  # the conflict, on a 375-px phone
    conflict = browser.find_element(By.CSS_SELECTOR, ".conflicts").text
    assert "Changed by someone else while you were editing" in conflict
    assert "Mia's words." in conflict and "Manager" in conflict
    assert browser.find_element(By.NAME, "description").get_attribute("value") == "Sam's words."
    submit(browser)
    assert Incident.objects.get(pk=incident.pk).description == "Sam's words."

    visit(browser, f"{site}/incidents/{incident.pk}/edit/")
    fill(browser, {"title": "Typed before the phone rang"})
    Session.objects.all().delete()  # thirty idle minutes
    submit(browser)
    assert "/login/" in browser.current_url
    check_page(browser)
    assert "What you were sending is kept" in browser.find_element(By.TAG_NAME, "main").text
    fill(browser, {"username": security.username, "password": "pw"})
    submit(browser)
    assert browser.current_url.endswith("/account/resume/")
    check_page(browser)
    assert "Typed before the phone rang" in browser.find_element(By.TAG_NAME, "main").text
    submit(browser)
    assert Incident.objects.get(pk=incident.pk).title == "Typed before the phone rang"

    # Two minutes before the idle end the page warns, and "Stay logged in" starts it over.
    settings.SESSION_COOKIE_AGE = 121  # the warning comes 1 s after the page, not 28 min
    visit(browser, f"{site}/incidents/{incident.pk}/")
    warning = browser.find_element(By.ID, "session-warning")
    assert not warning.is_displayed()
    waiting(browser, 15).until(lambda driver: warning.is_displayed())
    check_page(browser)  # the warning, on a phone
    assert warning.text.startswith("Your session ends in two minutes")
    clicked = timezone.now()
    warning.find_element(By.CSS_SELECTOR, ".stay").click()
    waiting(browser, 15).until(lambda driver: not warning.is_displayed())

    def extended():  # saved again, to last 121 s from the click
        lasts = timedelta(seconds=settings.SESSION_COOKIE_AGE)
        try:
            ends = Session.objects.get().expire_date
        except OperationalError:  # the server thread is writing it just now (SQLite)
            return False
        return clicked + lasts <= ends <= timezone.now() + lasts

    wait_for(extended)


def test_on_a_phone_the_forms_are_as_short_with_300_controllers_as_with_one(
    browser, site, security, controller, new_incident
):
    """The log form and the assessment do not grow with the controllers: one is found by its
    KBO number in the picker, and the Save button stays where it was with 300."""
    from incidents.models import Controller

    incident = new_incident()
    as_phone(browser)
    signed_in(browser, site, security)

    def measured():
        sizes = []
        for path in ("/incidents/new/", f"/incidents/{incident.pk}/assess/"):
            visit(browser, f"{site}{path}")
            sizes.append(
                browser.execute_script(
                    "var save = document.querySelector("
                    " 'main form [type=submit]:not([name=draft])');"
                    "return [document.documentElement.scrollHeight,"
                    " Math.round(save.getBoundingClientRect().top + window.scrollY)];"
                )
            )
        return sizes

    with_one = measured()
    Controller.objects.bulk_create(
        Controller(
            name=f"Klant {number:03d} BV",
            enterprise_number=f"0{number:07d}{97 - number % 97:02d}",
            email=f"privacy{number}@klant.example",
            language="nl",
        )
        for number in range(1, 300)
    )
    assert measured() == with_one
    check_page(browser)  # the assessment, with 300 controllers

    visit(browser, f"{site}/incidents/new/")
    fill(browser, {"title": "Found by its number", "description": "A client's shop."})
    browser.find_element(By.NAME, "controllers_add").send_keys("0000025041")
    offer = waiting(browser, 30).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR, ".controller-picker .matches button")
    )
    assert offer.text == "Add: Klant 250 BV (0000025041)"
    offer.click()
    submit(browser)
    logged = wait_for(lambda: Incident.objects.filter(title="Found by its number").first())
    assert [c.name for c in logged.controllers.all()] == ["Klant 250 BV"]


def test_on_a_phone_the_progress_bar_follows_a_sending_to_its_end(
    browser, site, manager, own_breach, settings
):
    """The communication to Conitro's customers while a worker hands it over, batch by batch
    (here the test is the worker, through the real sending code): the bar follows without a
    reload, and the page shows the final figures when nobody is waiting any more."""
    from subjects import sending
    from subjects.models import Communication, Recipient
    from subjects.texts import defaults

    settings.SUBJECTS_BATCH_SIZE = 1
    settings.SUBJECTS_PROGRESS_SECONDS = 0.3  # the page asks every 0.3 s (2 s by default)
    incident = own_breach  # Conitro's own customers, a high risk: they are to be told
    conitro = Controller.conitro()
    communication = Communication.objects.create(
        incident=incident,
        controller=conitro,
        created_by=manager,
        sent_by=manager,
        texts=defaults(incident, conitro),
        status="sending",
        started_at=timezone.now(),
    )
    Recipient.objects.bulk_create(
        Recipient(communication=communication, email=f"klant{n}@example.be", language="nl")
        for n in range(4)
    )
    TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    as_phone(browser)
    signed_in(browser, site, manager)
    visit(browser, f"{site}/incidents/{incident.pk}/subjects/{conitro.pk}/")
    bar = browser.find_element(By.ID, "sent-progress")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("0", "4")
    for handed in (1, 2):
        sending.hand_over(communication, sending.claim(communication.pk))
        shown = str(handed)
        waiting(browser, 10).until(lambda d, shown=shown: bar.get_attribute("value") == shown)
    assert browser.find_element(By.ID, "status-title").text == "Status: sending"
    browser.execute_script("window.beforeSubmit = true")
    sending.send_all(communication.pk)  # the rest, and the obligation is met
    next_page_loaded(browser)
    assert browser.find_element(By.ID, "status-title").text == (
        "Status: handed to the mail provider"
    )
    assert "4 of 4 handed to the mail provider" in browser.find_element(By.TAG_NAME, "main").text
    check_page(browser)
    assert incident.obligations.get(kind="inform_subjects").status == "met"
