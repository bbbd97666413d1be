"""Drives the wabiz console in a real browser (Debian's Chromium through
Playwright) against a running server, as a user would: signs in, opens a
customer's chat, sees an inbound message arrive live, answers as the customer,
sees the business's message and its ticks move, edits a setting and sees the
per-field error, and looks at the webhook deliveries. Any JavaScript error on
the page, or anything the page logs as an error, fails the run, except the
failed-request lines of the steps that expect a refusal.

usage: console_check.py BASE_URL ADMIN_PASSWORD WEBHOOK_URL [SCREENSHOT_DIR]
"""

import base64
import json
import os
import struct
import sys
import urllib.request
import zlib

from playwright.sync_api import expect, sync_playwright
from watched_page import open_page

base, password, webhook = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
shots = sys.argv[4] if len(sys.argv) > 4 else None
CUSTOMER = "16315551234"


def api(method, path, body=None, token=None):
    """A call to the API outside the browser (what an integration does)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    else:
        headers["Authorization"] = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def tiny_png():
    """A valid 2 x 2 RGB PNG, made here (no image library needed)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes([200, 40, 40] * 2) for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


token = api("POST", "/v1/users/login", {})["users"][0]["token"]
# The integration's webhook: a real receiver, so the deliveries view has some.
api("PATCH", "/v1/settings/application", {"webhooks": {"url": webhook}}, token)
errors, expected_refusals = [], []

with sync_playwright() as p:
    # A refused request the step expects is logged by the browser itself.
    browser, page = open_page(p, errors, lambda text: bool(
        expected_refusals and "Failed to load resource" in text and expected_refusals[-1] in text))
    # Which request a failed-resource line is about (the console line does not say).
    page.on("response", lambda r: r.status >= 400 and print(f"answer {r.status} {r.request.method} {r.url}"))

    page.goto(base + "/console")
    page.get_by_test_id("username").fill("admin")
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("who")).to_contain_text("admin")
    print("signed in")

    # A customer's chat, then a message from them arrives while it is open.
    page.get_by_test_id("chat-wa-id").fill(CUSTOMER)
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.get_by_test_id("chat-title")).to_have_text(CUSTOMER)
    api("POST", "/simulator/inbound", {"from": CUSTOMER, "type": "text", "text": {"body": "Is my order on its way?"},
                                       "profile": {"name": "Kerry Fisher"}}, token)
    expect(page.get_by_test_id("messages")).to_contain_text("Is my order on its way?")
    print("inbound message shown live")
    # The list of chats: the customer, named, with one unread message.
    listed = page.locator(f'[data-testid="chat-item"][data-id="{CUSTOMER}"]')
    expect(listed).to_contain_text("Kerry Fisher")
    expect(listed).to_contain_text("Is my order on its way?")
    expect(listed.get_by_test_id("chat-unread")).to_have_text("1")
    print("chat listed with its unread count")

    # The business answers through the API; its ticks move to read.
    api("POST", "/v1/messages", {"to": CUSTOMER, "type": "text", "text": {"body": "It ships today."}}, token)
    sent = page.get_by_test_id("message").filter(has_text="It ships today.")
    expect(sent).to_have_attribute("data-status", "read")
    print("outbound message read")

    # A customer whose phone cannot show the message: failed, and why.
    page.get_by_test_id("chat-wa-id").fill("15550000002")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.get_by_test_id("chat-title")).to_have_text("15550000002")
    api("POST", "/v1/messages", {"to": "15550000002", "type": "text", "text": {"body": "Can you see this?"}}, token)
    failed = page.get_by_test_id("message").filter(has_text="Can you see this?")
    expect(failed).to_have_attribute("data-status", "failed")
    expect(failed.get_by_test_id("message-status")).to_contain_text("1026")
    print("failed message shows its code")
    # Search by number, then by name; the keyboard opens a found chat.
    page.get_by_test_id("chat-search").fill("1555000")
    expect(page.get_by_test_id("chat-item")).to_have_count(1)
    expect(page.get_by_test_id("chat-item")).to_have_attribute("data-id", "15550000002")
    page.get_by_test_id("chat-search").fill("kerry")
    expect(page.get_by_test_id("chat-item")).to_have_count(1)
    page.get_by_test_id("chat-search").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("chat-title")).to_have_text(CUSTOMER)
    page.get_by_test_id("chat-search").fill("")
    expect(page.get_by_test_id("chat-item")).to_have_count(2)
    print("chats searched and opened by keyboard")
    page.get_by_test_id("chat-wa-id").fill(CUSTOMER)
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.get_by_test_id("chat-title")).to_have_text(CUSTOMER)

    # The customer writes back from the console.
    page.get_by_test_id("customer-text").fill("Thank you!")
    page.get_by_test_id("customer-send").click()
    expect(page.get_by_test_id("messages")).to_contain_text("Thank you!")
    print("answered as the customer")

    # The business asks with buttons; the customer presses one.
    api("POST", "/v1/messages", {"to": CUSTOMER, "type": "interactive", "interactive": {
        "type": "button", "body": {"text": "Confirm your order?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                               {"type": "reply", "reply": {"id": "no", "title": "No"}}]}}}, token)
    asked = page.get_by_test_id("message").filter(has_text="Confirm your order?")
    asked.get_by_test_id("customer-button").filter(has_text="Yes").click()
    pressed = page.get_by_test_id("message").filter(has_text="[button_reply] Yes")
    expect(pressed.get_by_test_id("quote")).to_contain_text("Confirm your order?")
    print("button pressed as the customer")

    # A reply quoting the business's message, a location and a contact card.
    page.get_by_test_id("message").filter(has_text="It ships today.").get_by_test_id("reply").click()
    expect(page.get_by_test_id("quoting")).to_contain_text("It ships today.")
    page.get_by_test_id("customer-text").fill("When exactly?")
    page.get_by_test_id("customer-send").click()
    quoting = page.get_by_test_id("message").filter(has_text="When exactly?")
    expect(quoting.get_by_test_id("quote")).to_contain_text("It ships today.")
    page.locator("details summary").click()
    page.get_by_test_id("location-send").click()
    expect(page.get_by_test_id("messages")).to_contain_text("[location] Pablo Morales")
    page.get_by_test_id("contact-name").fill("Jane Roe")
    page.get_by_test_id("contact-phone").fill("+1 631 555 0199")
    page.get_by_test_id("contact-send").click()
    expect(page.get_by_test_id("messages")).to_contain_text("[contact] Jane Roe")
    print("reply, location and contact as the customer")

    # A picture from the customer's phone: uploaded, then shown from wabiz's media store.
    png = tiny_png()
    page.get_by_test_id("media-file").set_input_files(files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": png}])
    page.get_by_test_id("media-caption").fill("My receipt")
    page.get_by_test_id("media-send").click()
    picture = page.get_by_test_id("message").filter(has_text="[image] My receipt").get_by_test_id("media-preview")
    expect(picture).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 2", arg=picture.element_handle())
    print("picture sent as the customer")
    page.get_by_test_id("media-file").set_input_files(files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"bring the receipt"}])
    page.get_by_test_id("media-send").click()
    document = page.get_by_test_id("message").filter(has_text="[document] notes.txt").get_by_test_id("media-preview")
    expect(document).to_have_text("Download notes.txt")
    print("document offered for download")
    # The list follows: the chat's last message and its unread count.
    expect(listed).to_contain_text("[document] notes.txt")
    expect(listed.get_by_test_id("chat-unread")).to_have_text("8")
    print("list follows the chat")
    if shots:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=os.path.join(shots, "console-chat.png"))

    # A template made in the console, its preview live, then sent by the API.
    page.get_by_test_id("nav-templates").click()
    page.get_by_test_id("template-name").fill("order_ready")
    page.get_by_test_id("template-body").fill("Hi {{1}}, your order {{2}} is ready.")
    page.get_by_test_id("template-footer").fill("Reply STOP to opt out")
    expect(page.get_by_test_id("template-preview")).to_contain_text("Hi [1], your order [2] is ready.")
    page.get_by_test_id("template-create").click()
    row = page.get_by_test_id("template-row").filter(has_text="order_ready")
    expect(row).to_have_count(1)
    template = {"namespace": "business_a_namespace", "name": "order_ready", "language": {"policy": "deterministic", "code": "en_US"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "Kerry"}, {"type": "text", "text": "A-17"}]}]}
    api("POST", "/v1/messages", {"to": CUSTOMER, "type": "template", "template": template}, token)
    page.get_by_test_id("nav-chats").click()
    page.get_by_role("button", name="Open", exact=True).click()
    # Shown as the customer sees it: the registered text, its parameters filled in.
    expect(page.get_by_test_id("message").filter(has_text="Hi Kerry, your order A-17 is ready.")).to_contain_text("Reply STOP to opt out")
    print("template created and sent")

    # A template with quick replies (registered through the API): the customer presses one.
    api("POST", "/simulator/templates", {"namespace": "business_a_namespace", "name": "delivery_slot", "language": "en_US",
        "category": "UTILITY", "components": [{"type": "BODY", "text": "Is {{1}} a good time?"},
                                              {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes"}, {"type": "QUICK_REPLY", "text": "Later"}]}]}, token)
    slot = {"namespace": "business_a_namespace", "name": "delivery_slot", "language": {"policy": "deterministic", "code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "9:00"}]},
                           {"type": "button", "sub_type": "quick_reply", "index": "1", "parameters": [{"type": "payload", "payload": "SLOT-LATER"}]}]}
    api("POST", "/v1/messages", {"to": CUSTOMER, "type": "template", "template": slot}, token)
    asked = page.get_by_test_id("message").filter(has_text="Is 9:00 a good time?")
    asked.get_by_test_id("customer-button").filter(has_text="Later").click()
    expect(page.get_by_test_id("message").filter(has_text="[button] Later")).to_have_count(1)
    pressed = [m for m in api("GET", f"/simulator/conversations/{CUSTOMER}", None, token)["messages"] if m["type"] == "button"]
    assert pressed[-1]["content"]["messages"][0]["button"] == {"payload": "SLOT-LATER", "text": "Later"}, pressed[-1]
    # A list: the customer picks a row.
    api("POST", "/v1/messages", {"to": CUSTOMER, "type": "interactive", "interactive": {
        "type": "list", "body": {"text": "Pick a store"}, "action": {"button": "Stores", "sections": [
            {"title": "Near you", "rows": [{"id": "s1", "title": "Main street"}, {"id": "s2", "title": "Harbour"}]}]}}}, token)
    page.get_by_test_id("message").filter(has_text="Pick a store").get_by_test_id("customer-button").filter(has_text="Harbour").click()
    expect(page.get_by_test_id("message").filter(has_text="[list_reply] Harbour")).to_have_count(1)
    print("template quick reply and list row pressed")
    page.get_by_test_id("nav-templates").click()
    row.get_by_test_id("template-status").select_option("PAUSED")
    expect(page.get_by_test_id("notice")).to_contain_text("order_ready is PAUSED")
    print("template paused")

    # A group: the business writes to it; a participant answers from the console.
    group = api("POST", "/v1/groups", {"subject": "Book club"}, token)["groups"][0]["id"]
    link = api("GET", f"/v1/groups/{group}/invite", None, token)["groups"][0]["link"]
    api("POST", "/simulator/groups/join", {"invite": link, "wa_id": "16315550077"}, token)
    api("POST", "/v1/messages", {"recipient_type": "group", "to": group, "type": "text", "text": {"body": "Next book?"}}, token)
    page.get_by_test_id("nav-chats").click()
    page.get_by_test_id("chat-item").filter(has_text="Book club").click()
    expect(page.get_by_test_id("chat-title")).to_have_text(group)
    expect(page.get_by_test_id("messages")).to_contain_text("Next book?")
    page.get_by_test_id("group-participant").select_option("16315550077")
    page.get_by_test_id("customer-text").fill("Dune, please")
    page.get_by_test_id("customer-send").click()
    said = page.get_by_test_id("message").filter(has_text="Dune, please")
    expect(said.get_by_test_id("sender")).to_contain_text("16315550077")
    print("group chat answered by a participant")

    # A setting the API refuses: the error stands beside its field.
    page.get_by_test_id("nav-settings").click()
    field = page.get_by_test_id("setting-heartbeat_interval")
    expect(field).to_be_visible()
    field.fill("99999")
    expected_refusals.append("400")
    page.get_by_test_id("settings-save").click()
    expect(page.get_by_test_id("setting-error-heartbeat_interval")).to_contain_text("1009")
    expected_refusals.pop()
    # Every field is there; a valid change is saved.
    field.fill("7")
    page.get_by_test_id("setting-media.auto_download").fill("image, document")
    page.get_by_test_id("settings-save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Saved.")
    saved = api("GET", "/v1/settings/application", None, token)["settings"]["application"]
    assert saved["heartbeat_interval"] == 7 and saved["media"]["auto_download"] == ["image", "document"], saved
    print("per-field error shown")

    # A callback the receiver refuses (the test's receiver answers 500 to it)
    # waits for a retry far away; "Retry now" makes the next attempt at once.
    api("PATCH", "/v1/settings/application", {"callback_backoff_delay_ms": 900000}, token)
    api("POST", "/simulator/inbound", {"from": "16315559999", "type": "text", "text": {"body": "Is the receiver down?"}}, token)

    # The webhook deliveries.
    page.get_by_test_id("nav-webhooks").click()
    expect(page.get_by_test_id("queue")).to_contain_text("Delivered")
    expect(page.get_by_test_id("delivered-callback").first).to_contain_text("delivered after")
    failing = page.get_by_test_id("pending-callback").filter(has_text="HTTP 500")
    for _ in range(50):
        if failing.count():
            break
        page.wait_for_timeout(200)
        page.get_by_test_id("nav-chats").click()
        page.get_by_test_id("nav-webhooks").click()
    expect(failing).to_have_attribute("data-attempts", "1")
    failing.get_by_test_id("retry-callback").click()
    expect(page.get_by_test_id("pending-callback").filter(has_text="HTTP 500")).to_have_attribute("data-attempts", "2")
    print("failing callback retried")
    page.get_by_test_id("filter-kind").select_option("statuses")
    expect(page.get_by_test_id("pending-callback")).to_have_count(0)
    page.get_by_test_id("filter-kind").select_option("")
    page.get_by_test_id("filter-customer").fill("16315551234")
    expect(page.get_by_test_id("pending-callback")).to_have_count(0)
    # The delivered ones are filtered too, and show what they carried.
    expect(page.get_by_test_id("delivered-callback").first).to_have_attribute("data-peer", "16315551234")
    peers = page.eval_on_selector_all('[data-testid="delivered-callback"]', "els => els.map(e => e.dataset.peer)")
    assert peers and set(peers) == {"16315551234"}, peers
    expect(page.get_by_test_id("delivered-callback").first.locator("summary")).to_contain_text("Payload")
    page.get_by_test_id("filter-customer").fill("16315559999")
    expect(page.get_by_test_id("pending-callback")).to_have_count(1)
    page.get_by_test_id("filter-customer").fill("")
    print("callbacks filtered")
    shown = page.get_by_test_id("figure-url")
    expect(shown).to_contain_text(webhook.split("?")[0])
    if "?" in webhook:
        expect(shown).not_to_contain_text(webhook.split("?")[1])
    page.get_by_test_id("webhook-test").click()
    expect(page.get_by_test_id("webhook-test-result")).to_contain_text("HTTP 200")
    expect(page.get_by_test_id("webhook-test-result")).to_have_attribute("data-acknowledged", "true")
    print("test callback answered")
    if shots:
        page.screenshot(path=os.path.join(shots, "console-webhooks.png"))
    print("webhook deliveries shown")

    # Health: the gateway, the registration, three live charts; an outage
    # switched on and off again; a traffic run started.
    page.get_by_test_id("nav-health").click()
    expect(page.get_by_test_id("figure-gateway").first).to_contain_text("connected")
    expect(page.get_by_test_id("chart")).to_have_count(3)
    page.get_by_test_id("chaos-outage").check()
    page.get_by_test_id("chaos-save").click()
    expect(page.get_by_test_id("health")).to_contain_text("disconnected")
    page.get_by_test_id("chaos-outage").uncheck()
    page.get_by_test_id("chaos-save").click()
    expect(page.get_by_test_id("health")).not_to_contain_text("disconnected")
    # Every message fails with 470 for a while; then forced outcomes wait.
    page.get_by_test_id("chaos-failure-rate").fill("1")
    page.get_by_test_id("chaos-failure-code").select_option("470")
    page.get_by_test_id("chaos-delay-delivered").fill("soon")
    page.get_by_test_id("chaos-save").click()
    expect(page.get_by_test_id("chaos-error")).to_contain_text("from-to")
    page.get_by_test_id("chaos-delay-delivered").fill("")
    page.get_by_test_id("chaos-save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Chaos settings applied.")
    chaos = api("GET", "/simulator/chaos", None, token)["chaos"]
    assert [(f["rate"], f["code"]) for f in chaos["failures"]] == [(1, 470)], chaos
    page.get_by_test_id("chaos-failure-rate").fill("")
    page.get_by_test_id("chaos-save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Chaos settings applied.")
    assert api("GET", "/simulator/chaos", None, token)["chaos"]["failures"] == []
    page.get_by_test_id("chaos-next-count").fill("2")
    page.get_by_test_id("chaos-next-outcome").select_option("delivered")
    page.get_by_test_id("chaos-next-save").click()
    expect(page.get_by_test_id("chaos-planned")).to_contain_text("2 forced outcome(s) waiting")
    page.get_by_test_id("traffic-count").fill("5")
    page.get_by_test_id("traffic-start").click()
    expect(page.get_by_test_id("traffic-run")).to_have_count(1)
    magic = page.get_by_test_id("magic-number").filter(has_text="15550000002")
    expect(magic).to_contain_text("1026")
    magic.get_by_role("button", name="Open the chat with 15550000002").click()
    expect(page.get_by_test_id("chat-title")).to_have_text("15550000002")
    expect(page.get_by_test_id("message").filter(has_text="Can you see this?")).to_have_attribute("data-status", "failed")
    print("health, chaos and traffic")

    # A phone's width: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    for view in ["health", "webhooks", "templates", "settings", "chats"]:
        page.get_by_test_id(f"nav-{view}").click()
        page.wait_for_timeout(300)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{view}: {overflow} px wider than a 390 px screen"
    print("fits 390 px")

    # Dark: the page follows the system's colour scheme.
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    page.emulate_media(color_scheme="light")
    light = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert dark != light and dark == "rgb(17, 20, 23)", (dark, light)
    print("dark and light")

    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("sign-in-form")).to_be_visible()
    print("signed out")
    browser.close()

assert not errors, "\n".join(errors)
print("no errors")
