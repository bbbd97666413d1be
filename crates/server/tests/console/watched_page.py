"""A Chromium page (Debian's, through Playwright) whose JavaScript errors and
console errors are collected, for the console's browser checks."""

import os

CHROMIUM = os.environ.get("WABIZ_CHROMIUM", "/usr/bin/chromium")


def open_page(p, errors, tolerated):
    """A 1440 x 900 page; every page error, and every console error that
    `tolerated(text)` does not accept, is appended to `errors`."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))

    def on_console(msg):
        if msg.type == "error" and not tolerated(msg.text):
            errors.append(f"console error: {msg.text}")

    page.on("console", on_console)
    return browser, page
