"""Drives a running wabiz with wabclient, praekelt's On-Premises client library,
exactly as an integration built on it would. Usage:

    python wabclient_check.py BASE_URL WEBHOOK_URL

HTTPS trust comes from REQUESTS_CA_BUNDLE. Exits non-zero on the first failure.
The ids of the messages it sends are printed on a line `MESSAGE_IDS <json>`;
the caller checks that their statuses reach the webhook.
"""
import io
import json
import struct
import sys
import zlib

import requests
from wabclient import Client

ADMIN_PASSWORD = "Wabcl1ent-Passw0rd!"
checks = 0


def check(cond, what):
    global checks
    if not cond:
        raise SystemExit("wabclient check failed: " + what)
    checks += 1


def png(width, height):
    raw = b"".join(b"\x00" + b"\x20\x80\x40" * width for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def main(base, hook_url):
    session = requests.Session()
    client = Client(base, session=session)
    config = client.config

    # First login: the factory password must be replaced.
    session.auth = ("admin", "secret")
    config.set_initial_password(ADMIN_PASSWORD)
    session.auth = None
    token, expires_at = config.login("admin", ADMIN_PASSWORD)
    check(token.startswith("eyJ"), "token format")
    check(expires_at.tzinfo is not None and expires_at.utcoffset().total_seconds() == 0, "expires_after in UTC")

    health = client.healthcheck()
    check(health["health"]["gateway_status"] == "connected", "health: %r" % (health,))

    settings = config.get_settings()
    check(settings["callback_persist"] is True, "default callback_persist")
    check(settings["webhooks"]["max_concurrent_requests"] == 6, "default max_concurrent_requests")

    # wabclient writes the delay fields as strings and sends keys wabiz ignores.
    # sent_status=True: the integrator wants "sent" statuses (wabclient's
    # default, False, turns them off, and wabiz honours that too).
    config.set_settings("16315551234", hook_url, sent_status=True, callback_backoff_delay_ms=5000,
                        max_callback_backoff_delay_ms=120000)
    settings = config.get_settings()
    check(settings["callback_backoff_delay_ms"] == 5000, "delay written as a string reads back as a number")
    check(settings["max_callback_backoff_delay_ms"] == 120000, "max delay")
    check(settings["webhooks"]["url"] == hook_url, "webhook url")
    check(settings["on_call_pager"] == "16315551234", "on_call_pager")
    check("tcp_listen_address" not in settings, "unknown key ignored")

    config.set_about("Hello from wabclient")
    check(config.get_about() == "Hello from wabclient", "about")

    config.set_business_profile(address="1 Main St", description="A shop", vertical="Other", email="shop@example.com",
                                websites=["https://shop.example.com"])
    profile = config.get_business_profile()["profile"]
    check(profile["email"] == "shop@example.com" and profile["websites"] == ["https://shop.example.com"], "business")

    config.set_profile_photo(io.BytesIO(png(320, 200)), "photo.png")
    photo = config.get_profile_photo().read()
    check(photo[:3] == b"\xff\xd8\xff", "profile photo comes back as JPEG")

    config.create_user("wabuser", "Passw0rd!x")
    config.set_password("wabuser", "N3w-Passw0rd")
    other = Client(base, session=requests.Session()).config
    other_token, _ = other.login("wabuser", "N3w-Passw0rd")
    check(other_token != token, "second user logs in")

    export = client.create_backup("backup-password")
    check(export.startswith("WABK1."), "backup blob")
    config.set_about("changed after the backup")
    client.restore_backup("backup-password", export)
    check(config.get_about() == "Hello from wabclient", "restore brings the about text back")

    # Messaging: check a contact, send text, an uploaded image and a template.
    contacts = client.check_contacts(["+1 631-555-1234"], wait=True)["contacts"]
    check(contacts[0]["status"] == "valid" and contacts[0]["wa_id"] == "16315551234", "contact: %r" % (contacts,))
    check(client.get_address("+16315551234") == "16315551234", "get_address")
    ids = []
    text = client.send_message("16315551234", "Hello from wabclient, see https://example.com")
    ids.append(text["messages"][0]["id"])
    image = client.send_image("16315551234", "chart.png", io.BytesIO(png(40, 30)), "a chart")
    ids.append(image["messages"][0]["id"])
    hsm = client.send_hsm("16315551234", "wabclient_ns", "greeting", "en", [{"default": "Kerry"}])
    ids.append(hsm["messages"][0]["id"])
    check(len(set(ids)) == 3 and all(i.startswith("gB") for i in ids), "message ids: %r" % (ids,))
    print("MESSAGE_IDS " + json.dumps(ids))

    print("wabclient: %d checks passed" % checks)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
