"""Generates a client from wabiz's own OpenAPI document with
openapi-python-client (PyPI), then drives the server with that client the way
an integration built on it would: logs in over HTTP Basic, sends a text and
reads the application settings. Prints one line per check; exits non-zero on
the first failure.

usage: generated_client_check.py BASE_URL ADMIN_PASSWORD

ADMIN_PASSWORD is admin's current password (the factory one already
replaced). The interpreter must have openapi-python-client installed; the
generator runs as `python -m openapi_python_client` and brings httpx and
attrs, which the generated code imports.
"""

import importlib
import os
import subprocess
import sys
import tempfile

base, password = sys.argv[1].rstrip("/"), sys.argv[2]
PACKAGE = "wabiz_generated"

work = tempfile.mkdtemp(prefix="wabiz-client-")
# The generator formats its output with ruff, which it installs next to the
# interpreter but looks up on PATH.
env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
gen = subprocess.run(
    [
        sys.executable, "-m", "openapi_python_client", "generate",
        "--url", base + "/openapi.json",
        "--output-path", os.path.join(work, PACKAGE),
        "--meta", "none",
    ],
    capture_output=True, text=True, env=env, timeout=300,
)
assert gen.returncode == 0, gen.stdout + gen.stderr
# Its warnings (what it left out) go to stderr.
warnings = [line for line in gen.stderr.splitlines() if line.startswith("WARNING")]
print("generated", len(warnings), "warnings")
for w in warnings:
    print("  " + w)

sys.path.insert(0, work)
client_mod = importlib.import_module(PACKAGE + ".client")
login_api = importlib.import_module(PACKAGE + ".api.users.post_v1_users_login")
send_api = importlib.import_module(PACKAGE + ".api.messages.post_v1_messages")
settings_api = importlib.import_module(PACKAGE + ".api.settings.get_v1_settings_application")
models = importlib.import_module(PACKAGE + ".models")

# Login: HTTP Basic and an empty object (the document's body is an object, or null).
basic = client_mod.Client(base_url=base, httpx_args={"auth": ("admin", password)}, raise_on_unexpected_status=True)
r = login_api.sync_detailed(client=basic, body=models.PostV1UsersLoginBodyType0())
assert r.status_code == 200, (r.status_code, r.content)
assert isinstance(r.parsed, models.PostV1UsersLoginResponse200), r.parsed
token = r.parsed.users[0].token
assert token.startswith("eyJ"), token
print("login", r.parsed.meta.version, "expires", r.parsed.users[0].expires_after)

admin = client_mod.AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)

body = models.PostV1MessagesText.from_dict({"to": "16315551234", "type": "text", "text": {"body": "hi"}})
r = send_api.sync_detailed(client=admin, body=body)
assert r.status_code == 201, (r.status_code, r.content)
assert isinstance(r.parsed, models.PostV1MessagesResponse201), r.parsed
mid = r.parsed.messages[0].id
assert mid, r.content
print("sent", mid)

r = settings_api.sync_detailed(client=admin)
assert r.status_code == 200, (r.status_code, r.content)
app = r.parsed.settings.application
assert isinstance(app.callback_persist, bool) and app.webhooks is not None, r.content
print("settings callback_persist", app.callback_persist, "sent_status", app.sent_status)
