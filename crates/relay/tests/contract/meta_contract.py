"""Meta's description of the Cloud API (Graph v23.0, `meta/`, MIT), made
usable by a validator, for the relay's contract tests.

    meta_contract.py examples   prints the 50 send examples of sendMessage as JSON
    meta_contract.py webhooks   prints the 16 webhook examples as JSON
    meta_contract.py check      reads [{"name", "request"}] on stdin, prints
                                {name: [errors]} for requests the Message
                                schema refuses
    meta_contract.py calls      reads [{"name", "operation", "content_type",
                                "request"}] on stdin, prints {name: [errors]}
                                for request bodies their operation's schema
                                (by operationId) refuses

The file has defects (../shared/reference/README.md lists them); every patch
the relay's tests rely on is here, with its reason, and nowhere else.
"""

import json
import os
import sys

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "meta", "business-messaging-api_v23.0.yaml")
MESSAGES = "/{Version}/{Phone-Number-ID}/messages"


def patch(doc):
    """The patches, each with why it is needed."""
    schemas = doc["components"]["schemas"]
    # 1. The webhook path answers with an unquoted `200`: YAML makes it an
    #    integer key, which validators cannot handle.
    responses = doc["paths"]["/whatsapp/webhooks"]["post"]["responses"]
    if 200 in responses:
        responses["200"] = responses.pop(200)
    # 2. `components.parameterGroups` is not OpenAPI; kept aside as an extension.
    if "parameterGroups" in doc["components"]:
        doc["components"]["x-parameterGroups"] = doc["components"].pop("parameterGroups")
    # 3. Each message type is `allOf: [BaseMessageProperties, {…,
    #    additionalProperties: false}]`: the second part then refuses the first
    #    part's fields (`to`, `messaging_product`…), so no message passes.
    for branch in ["TextMessage", "AudioMessage", "DocumentMessage", "ImageMessage", "LocationMessage",
                   "VideoMessage", "StickerMessage", "ReactionMessage", "InteractiveMessage", "ContactsMessage"]:
        for part in schemas[branch]["allOf"]:
            if isinstance(part, dict):
                part.pop("additionalProperties", None)
    # 4. `recipient_type` is optional in Cloud's reference (it defaults to
    #    individual); the schema requires it, and half of Meta's own examples lack it.
    schemas["BaseMessageProperties"]["required"] = ["messaging_product", "to", "type"]
    # 5. `language.policy` is On-Premises only (cloud-mapping.md §2.1, and Cloud's
    #    reference); the schema requires it.
    schemas["LanguageObject"]["required"] = ["code"]
    # 6. A template button's `index` is "0".."9" in every example; the pattern
    #    given refuses them.
    schemas["TemplateComponent"]["properties"]["index"] = {"type": ["string", "integer"], "pattern": "^[0-9]+$"}
    # 7. Latitude and longitude are numbers in the reference and the examples,
    #    strings in the schema.
    location = schemas["LocationMessage"]["allOf"][1]["properties"]["location"]["properties"]
    location["latitude"]["type"] = location["longitude"]["type"] = ["number", "string"]
    # 8-10. Three examples contradict the schema and Cloud's reference: a
    #    multi-product header of type "image" without an image (its text is
    #    given), and two without their `type`.
    examples = doc["paths"][MESSAGES]["post"]["requestBody"]["content"]["application/json"]["examples"]
    examples["Send Multi-Product Message"]["value"]["interactive"]["header"]["type"] = "text"
    examples["Send Reply to List Message"]["value"]["type"] = "interactive"
    examples["Send Text Message with Preview URL"]["value"]["type"] = "text"
    # 11. Marking a message read is a POST to the same `messages` path
    #    (`{"messaging_product", "status": "read", "message_id"}`, with an
    #    optional typing indicator): Meta's own example of it ("Send typing
    #    indicator and read receipt") is refused by the `Message` schema,
    #    which has no branch for it. The branch is added, as Cloud's reference
    #    describes the call.
    schemas["Message"]["oneOf"].append({
        "type": "object",
        "required": ["messaging_product", "status", "message_id"],
        "properties": {
            "messaging_product": {"const": "whatsapp"},
            "status": {"const": "read"},
            "message_id": {"type": "string", "minLength": 1},
            "typing_indicator": {"type": "object", "required": ["type"], "properties": {"type": {"const": "text"}}},
        },
        "additionalProperties": False,
    })
    return doc


def load():
    with open(SOURCE, encoding="utf-8") as f:
        return patch(yaml.safe_load(f))


def send_examples(doc):
    examples = doc["paths"][MESSAGES]["post"]["requestBody"]["content"]["application/json"]["examples"]
    return {name: e["value"] for name, e in examples.items()}


def webhook_examples(doc):
    examples = doc["paths"]["/whatsapp/webhooks"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    return {name: e["value"] for name, e in examples.items()}


def message_validator(doc):
    registry = Registry().with_resource("urn:meta", Resource.from_contents(doc, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": "urn:meta#/components/schemas/Message"}, registry=registry)


def operation(doc, operation_id):
    for ops in doc["paths"].values():
        for op in ops.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return op
    raise SystemExit("no operation " + operation_id)


def check_calls(doc, calls):
    registry = Registry().with_resource("urn:meta", Resource.from_contents(doc, default_specification=DRAFT202012))
    refused = {}
    for call in calls:
        body = operation(doc, call["operation"]).get("requestBody", {}).get("content", {})
        schema = body.get(call["content_type"], {}).get("schema")
        if schema is None:
            refused[call["name"]] = ["the operation takes no %s body" % call["content_type"]]
            continue
        # The operation's schema, its references resolved in the whole document.
        v = Draft202012Validator({"$ref": "urn:meta#/x-check/schema"}, registry=registry.with_resource(
            "urn:meta", Resource.from_contents(dict(doc, **{"x-check": {"schema": schema}}),
                                               default_specification=DRAFT202012)))
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in v.iter_errors(call["request"])]
        if errors:
            refused[call["name"]] = errors
    return refused


def main():
    doc = load()
    if sys.argv[1:] == ["examples"]:
        json.dump(send_examples(doc), sys.stdout)
    elif sys.argv[1:] == ["webhooks"]:
        json.dump(webhook_examples(doc), sys.stdout)
    elif sys.argv[1:] == ["check"]:
        v = message_validator(doc)
        refused = {}
        for item in json.load(sys.stdin):
            errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in v.iter_errors(item["request"])]
            if errors:
                refused[item["name"]] = errors
        json.dump(refused, sys.stdout)
    elif sys.argv[1:] == ["calls"]:
        json.dump(check_calls(doc, json.load(sys.stdin)), sys.stdout)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
