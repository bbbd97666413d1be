"""Reads wabiz's event stream with sseclient-py (PyPI), the way a Python
integration would: opens GET /simulator/events, sends a text, reads the
message's statuses, then reconnects with Last-Event-ID and gets what came
after. Prints one line per check; exits non-zero on the first failure.

usage: sse_check.py BASE_URL ADMIN_TOKEN
"""

import json
import sys

import requests
import sseclient

base, token = sys.argv[1], sys.argv[2]
auth = {"Authorization": "Bearer " + token}


def stream(last_event_id=None):
    headers = dict(auth, Accept="text/event-stream")
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    r = requests.get(base + "/simulator/events?types=message_status", headers=headers, stream=True, timeout=20)
    r.raise_for_status()
    return sseclient.SSEClient(r).events()


events = stream()
first = next(events)
assert first.event == "ready", first.event
print("ready", json.loads(first.data)["stream"])

sent = requests.post(base + "/v1/messages", headers=auth, json={"to": "16315551234", "text": {"body": "hi"}}, timeout=20)
assert sent.status_code == 201, sent.text
mid = sent.json()["messages"][0]["id"]

seen = []
for e in events:
    data = json.loads(e.data)
    if data["id"] != mid:
        continue
    seen.append((e.id, data["status"]))
    if data["status"] == "read":
        break
assert [s for _, s in seen] == ["sent", "delivered", "read"], seen
print("statuses", " ".join(s for _, s in seen))

# Resume after `sent`: the next two come again, nothing before them.
resumed = stream(last_event_id=seen[0][0])
assert next(resumed).event == "ready"
again = [json.loads(next(resumed).data)["status"] for _ in range(2)]
assert again == ["delivered", "read"], again
print("resumed", " ".join(again))
