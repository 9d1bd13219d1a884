#!/usr/bin/python3
"""Checks the Helios dashboard in headless Chromium (Debian's chromium and chromium-driver,
python3-selenium): the facts a user must see, with JavaScript on and off, an accessibility pass,
and a screenshot per page. Driven by Tests/SystemTests/DashboardTests.swift, which makes the
cluster; the expectations come as JSON on the command line.

    dashboard.py BASE TOKEN ARTIFACTS EXPECTATIONS_JSON

EXPECTATIONS_JSON: {"name": …, "pages": [{"path": "/ui", "text": ["…"], "tests": {"data-test": "value"}}],
                    "watch": {"path": …, "test": …, "values": [...]}}  (watch: optional)
Prints one line per failed check and exits 1 if any failed.
"""
import json
import os
import sys
import time
from html.parser import HTMLParser

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

base, token, artifacts, spec = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
failures = []


def browser(javascript):
    options = Options()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--no-proxy-server"]:
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def load(driver, path):
    """Opens base + path. Chromium abandons a load when the machine's network interfaces change
    (ERR_NETWORK_CHANGED: every container Docker starts adds one) and shows its own error page
    instead; such a load is made again, a few times. Any other page counts as it is."""
    for _ in range(5):
        driver.get(base + path)
        if "ERR_NETWORK_CHANGED" not in driver.page_source:
            return
        time.sleep(0.2)


def sign_in(driver):
    load(driver, "/ui/login")
    if token:
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        # The POST's reply sets the session cookie: a navigation before it lands would lose it.
        deadline = time.time() + 30
        while time.time() < deadline and not driver.get_cookie("helios_session"):
            time.sleep(0.05)
        if not driver.get_cookie("helios_session"):
            failures.append("%s: signing in set no session cookie (at %s)" % (spec["name"], driver.current_url))
        # And the page the sign-in leads to has loaded: a navigation of ours while it still
        # loads could be overtaken by it (its half-loaded page read as ours).
        while time.time() < deadline and (driver.current_url.endswith("/ui/login")
                                          or driver.execute_script("return document.readyState") != "complete"):
            time.sleep(0.05)


class Facts(HTMLParser):
    """The text of a page as the browser has it now (its DOM, serialised), and of each
    data-test element: read from the page source, so it works the same with JavaScript off."""

    def __init__(self, html):
        super().__init__()
        self.text, self.tests, self.open = [], {}, []
        self.feed(html)

    def handle_starttag(self, tag, attributes):
        name = dict(attributes).get("data-test")
        if tag not in ("br", "input", "meta", "link", "img"):
            self.open.append((tag, name, []))

    def handle_endtag(self, tag):
        while self.open:
            opened, name, parts = self.open.pop()
            if name:
                self.tests.setdefault(name, []).append("".join(parts).strip())
            if self.open:
                self.open[-1][2].extend(parts)
            if opened == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        if self.open:
            self.open[-1][2].append(data)


def facts(driver):
    return Facts(driver.page_source)


def test_value(driver, name):
    return facts(driver).tests.get(name, [])


def check_page(driver, page, mode):
    load(driver, page["path"])
    body = " ".join(facts(driver).text)
    for text in page.get("text", []):
        if text not in body:
            failures.append("%s %s (%s): no text %r" % (spec["name"], page["path"], mode, text))
    for prefix in page.get("links", []):
        if not driver.find_elements(By.CSS_SELECTOR, 'a[href^="%s"]' % prefix):
            failures.append("%s %s (%s): no link to %s" % (spec["name"], page["path"], mode, prefix))
    for name, value in page.get("tests", {}).items():
        values = test_value(driver, name)
        if not any(shown == value or shown.startswith(value + ":") for shown in values):
            failures.append("%s %s (%s): data-test=%s is %r, not %r; the page at %s says: %r" % (
                spec["name"], page["path"], mode, name, values, value, driver.current_url, " ".join(body.split())[:400]))


ACCESSIBILITY = """
const problems = [];
for (const landmark of ['header', 'nav', 'main', 'footer'])
  if (!document.querySelector(landmark)) problems.push('no <' + landmark + '> landmark');
if (!document.querySelector('h1')) problems.push('no h1');
if (!document.documentElement.lang) problems.push('no lang');
for (const input of document.querySelectorAll('input:not([type=hidden]), select, textarea'))
  if (!(input.id && document.querySelector('label[for="' + input.id + '"]')) && !input.getAttribute('aria-label'))
    problems.push('input without a label: ' + (input.name || input.id));
for (const table of document.querySelectorAll('table'))
  if (!table.querySelector('caption')) problems.push('table without a caption');
function luminance(color) {
  const parts = color.match(/[0-9.]+/g).map(Number);
  const [r, g, b] = parts.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function background(element) {
  for (let node = element; node; node = node.parentElement) {
    const color = getComputedStyle(node).backgroundColor;
    const parts = color.match(/[0-9.]+/g);
    if (parts && (parts.length < 4 || Number(parts[3]) > 0)) return color;
  }
  return 'rgb(255, 255, 255)';
}
for (const element of document.querySelectorAll('body *')) {
  if (!element.childNodes.length || ![...element.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  const style = getComputedStyle(element);
  if (style.visibility === 'hidden' || style.display === 'none') continue;
  const a = luminance(style.color), b = luminance(background(element));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  if (ratio < 4.5) problems.push('contrast ' + ratio.toFixed(2) + ' for "' + element.textContent.trim().slice(0, 30) + '"');
}
return problems;
"""


def check_accessibility(driver, page):
    load(driver, page["path"])
    for problem in sorted(set(driver.execute_script(ACCESSIBILITY))):
        failures.append("%s %s: accessibility: %s" % (spec["name"], page["path"], problem))


def screenshot(driver, page):
    load(driver, page["path"])
    name = spec["name"] + page["path"].replace("/", "-").replace("?", "-") + ".png"
    driver.save_screenshot(artifacts + "/" + name)


# Beside the page's own script: when each event arrived (a second subscription to the same
# stream) and, at each change of <main>, what the watched data-test elements showed.
OBSERVE = """
window.heliosNotReloaded = true;
window.heliosEvents = []; window.heliosChanges = [];
var names = arguments[0];
var stream = new EventSource("/v1/events");
["sync", "rollout"].forEach(function (type) {
  stream.addEventListener(type, function () { window.heliosEvents.push(performance.now()); });
});
new MutationObserver(function () {
  var shown = {};
  names.forEach(function (name) {
    shown[name] = [].map.call(document.querySelectorAll('[data-test="' + name + '"]'), function (e) { return e.textContent.trim(); });
  });
  window.heliosChanges.push({at: performance.now(), shown: shown});
}).observe(document.getElementById("main"), {childList: true, subtree: true, characterData: true});
"""


LIVE_BOUND_MS = 5000


def watch(driver, watched):
    """The page open, never reloaded: each (data-test, value) step must appear in turn, soon
    after the event before it (the page fetched itself and swapped <main>)."""
    load(driver, watched["path"])
    driver.execute_script(OBSERVE, sorted({name for name, _ in watched["steps"]}))
    time.sleep(1)  # the event streams are open
    open(watched["ready"], "w").close()
    for name, value in watched["steps"]:
        deadline = time.time() + watched.get("timeout", 60)
        while time.time() < deadline and value not in test_value(driver, name):
            time.sleep(0.1)
        if value not in test_value(driver, name):
            failures.append("%s watch %s: %s never showed %r (shows %r)" % (spec["name"], watched["path"], name, value,
                                                                              test_value(driver, name)))
            return
    events = driver.execute_script("return window.heliosEvents;")
    changes = driver.execute_script("return window.heliosChanges;")
    for name, value in watched["steps"]:
        change = next((c for c in changes if value in c["shown"].get(name, [])), None)
        before = [at for at in events if change and at <= change["at"]]
        if not change or not before:
            failures.append("%s watch: %s=%s appeared without an event before it" % (spec["name"], name, value))
            continue
        delay = change["at"] - before[-1]
        with open(os.path.join(artifacts, "live-delays.txt"), "a") as log:
            log.write("%s=%s shown %.0f ms after the event\n" % (name, value, delay))
        # Typically 50-300 ms here; a second under a loaded full suite is not unusual, so the
        # bound is what tells an update driven by the event from none (the page would only
        # change at a later event, or never): timings are for `make bench`, not for a test.
        if delay > LIVE_BOUND_MS:
            failures.append("%s watch: %s=%s shown %.0f ms after its event (more than %d ms)"
                            % (spec["name"], name, value, delay, LIVE_BOUND_MS))
    if driver.execute_script("return window.heliosNotReloaded === true;") is not True:
        failures.append("%s watch: the page was reloaded" % spec["name"])


# Before the page's own script: an EventSource the test fires by hand and a fetch it answers by
# hand, so the order of events and replies is the test's, not the machine's.
FAKE_LIVE = """
window.fakeListeners = {}; window.fakeReplies = [];
window.EventSource = function () { this.addEventListener = function (type, f) { window.fakeListeners[type] = f; }; };
window.fetch = function () { return new Promise(function (resolve) { window.fakeReplies.push(resolve); }); };
window.fakeReply = function (index, main) {
  window.fakeReplies[index]({ok: true, text: function () {
    return Promise.resolve('<html><body><main id="main">' + main + '</main></body></html>'); }});
};
"""


def refresh_ends_on_the_newest_state(driver, path):
    """An event that arrives while the page is fetching itself is not lost: once the fetch in
    flight (which may predate the event) is in, the page fetches itself again and ends on the
    state after the event."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAKE_LIVE})
    load(driver, path)

    def wait_for(script, want):
        deadline = time.time() + 10
        while time.time() < deadline and driver.execute_script(script) != want:
            time.sleep(0.05)
        return driver.execute_script(script)
    replies = "return window.fakeReplies.length;"
    driver.execute_script("window.fakeListeners.rollout();")
    wait_for(replies, 1)
    driver.execute_script("window.fakeListeners.rollout();")  # while the first fetch is out
    driver.execute_script("window.fakeReply(0, 'before the second event');")
    main = "return document.getElementById('main').textContent;"
    wait_for(main, "before the second event")
    if wait_for(replies, 2) != 2:
        failures.append("live: an event during a fetch was dropped (%d fetches, the page shows %r)"
                        % (driver.execute_script(replies), driver.execute_script(main)))
        return
    driver.execute_script("window.fakeReply(1, 'after the second event');")
    if wait_for(main, "after the second event") != "after the second event":
        failures.append("live: the page did not end on the newest state: %r" % driver.execute_script(main))


live = browser(javascript=True)
try:
    sign_in(live)
    if "watch" in spec:
        watch(live, spec["watch"])
        faked = browser(javascript=True)
        try:
            sign_in(faked)
            refresh_ends_on_the_newest_state(faked, spec["watch"]["path"])
        finally:
            faked.quit()
    for page in spec.get("pages", []):
        check_page(live, page, "JavaScript on")
        check_accessibility(live, page)
        screenshot(live, page)
finally:
    live.quit()

if spec.get("pages"):
    plain = browser(javascript=False)
    try:
        sign_in(plain)
        for page in spec["pages"]:
            check_page(plain, page, "JavaScript off")
    finally:
        plain.quit()

for failure in failures:
    print(failure)
sys.exit(1 if failures else 0)
