"""The console recovers by itself after a server restart: signed in, with the
list of chats open, the page loses the server (the test restarts it on the
same port), then shows a message that arrives after the restart, without a
reload. Lines the browser logs about the refused connections while the server
is away are expected; any other error fails the run.

usage: console_restart_check.py BASE_URL ADMIN_PASSWORD MARKER_DIR
The script writes MARKER_DIR/stop when the page is ready, and waits for
MARKER_DIR/started (the restarted server) before sending the new message.
"""

import base64
import json
import os
import sys
import time
import urllib.request

from playwright.sync_api import expect, sync_playwright
from watched_page import open_page

base, password, markers = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]


def api(method, path, body=None):
    basic = base64.b64encode(f"admin:{password}".encode()).decode()
    token = json.loads(urllib.request.urlopen(urllib.request.Request(
        base + "/v1/users/login", data=b"{}", method="POST",
        headers={"Authorization": "Basic " + basic, "Content-Type": "application/json"})).read())["users"][0]["token"]
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(), method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


errors, away = [], [False]
with sync_playwright() as p:
    # While the server is away, the browser logs the refused connections itself.
    browser, page = open_page(p, errors, lambda text: away[0] and any(
        e in text for e in ["ERR_CONNECTION_REFUSED", "ERR_CONNECTION_RESET", "ERR_EMPTY_RESPONSE",
                            "ERR_INCOMPLETE_CHUNKED_ENCODING"]))
    page.goto(base + "/console")
    page.get_by_test_id("username").fill("admin")
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("who")).to_contain_text("admin")
    api("POST", "/simulator/inbound", {"from": "16315551234", "type": "text", "text": {"body": "before the restart"}})
    expect(page.get_by_test_id("chat-list")).to_contain_text("before the restart")
    print("signed in, list live")

    away[0] = True
    open(os.path.join(markers, "stop"), "w").close()
    deadline = time.time() + 60
    while not os.path.exists(os.path.join(markers, "started")):
        assert time.time() < deadline, "the server did not come back"
        page.wait_for_timeout(100)
    print("server restarted")
    api("POST", "/simulator/inbound", {"from": "16315550001", "type": "text", "text": {"body": "after the restart"}})
    item = page.get_by_test_id("chat-item").filter(has_text="after the restart")
    expect(item).to_be_visible(timeout=30000)
    expect(page.get_by_test_id("who")).to_contain_text("admin")
    print("recovered without a reload")
    away[0] = False
    item.click()
    expect(page.get_by_test_id("messages")).to_contain_text("after the restart")
    browser.close()

assert not errors, "\n".join(errors)
print("no errors")
