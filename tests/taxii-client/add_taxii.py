"""Adds objects to IntelSharing's TAXII 2.1 write collection with the OASIS taxii2-client (docs/stix-taxii.md).

Usage: /usr/bin/python3 add_taxii.py <taxii2-client folder> <server url> <api key with alerts:write> <api key with alerts:read only>
Posts an envelope (an incident, two indicators, one indicator without a TLP marking) to the cyber_incident collection
with Collection.add_objects, polls its status with Status.refresh, reads the new alert's incident back through the
collection, and checks that the read-only key's collection cannot be written. Exits non-zero on the first failure.
"""
import datetime
import sys
import uuid

sys.path.insert(0, sys.argv[1])
from taxii2client.exceptions import AccessError  # noqa: E402
from taxii2client.v21 import Server  # noqa: E402

url, writer, reader = sys.argv[2], sys.argv[3], sys.argv[4]
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def check(condition, message):
    if not condition:
        print("FAIL:", message)
        sys.exit(1)


def stix(kind, marking, **properties):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    obj = {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", "created": now, "modified": now}
    obj.update(properties)
    if marking:
        obj["object_marking_refs"] = [marking]
    return obj


def collection_of(key):
    root = Server(url, user="taxii-client", password=key).api_roots[0]
    return next(c for c in root.collections if c.alias == "cyber_incident")


name = f"Ransomware staging servers {uuid.uuid4().hex[:8]}"
envelope = {"objects": [
    stix("incident", GREEN, name=name, description="Staging servers seen before encryption."),
    stix("indicator", GREEN, pattern="[ipv4-addr:value = '198.51.100.23']", pattern_type="stix", valid_from="2026-12-01T00:00:00Z"),
    stix("indicator", GREEN, pattern="[domain-name:value = 'stage.example' OR url:value = 'https://stage.example/p']", pattern_type="stix",
         valid_from="2026-12-01T00:00:00Z"),
    stix("indicator", None, pattern="[ipv4-addr:value = '198.51.100.24']", pattern_type="stix", valid_from="2026-12-01T00:00:00Z"),
]}
since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

collection = collection_of(writer)
check(collection.can_write, "the cyber_incident collection is writable with alerts:write")
status = collection.add_objects(envelope)
check(status.status == "complete", f"status complete, got {status.status}")
check((status.total_count, status.success_count, status.failure_count, status.pending_count) == (4, 3, 1, 0),
      f"counts 4/3/1/0, got {status.total_count}/{status.success_count}/{status.failure_count}/{status.pending_count}")
check(status.failures[0]["id"] == envelope["objects"][3]["id"], "the unmarked indicator is the failure")
first = status.id
status.refresh()
check(status.id == first and status.success_count == 3, "Status.refresh reads the same status")
again = collection.add_objects(envelope)
check(again.id == first, "the same envelope answers the same status")

incidents = [o for o in collection.get_objects(type="incident", added_after=since).get("objects", []) if o["name"] == name]
check(len(incidents) == 1, f"one new incident named as posted, got {len(incidents)}")
indicators = [o for o in collection.get_objects(type="indicator", added_after=since).get("objects", []) if "stage.example" in o["pattern"] or "198.51.100." in o["pattern"]]
check(sorted(o["pattern"] for o in indicators) == sorted([
    "[ipv4-addr:value = '198.51.100.23']", "[domain-name:value = 'stage.example']", "[url:value = 'https://stage.example/p']"]),
    f"the alert's indicators, got {[o['pattern'] for o in indicators]}")

read_only = collection_of(reader)
check(not read_only.can_write, "a read-only key's collection is not writable")
try:
    read_only.add_objects(envelope)
    check(False, "add_objects with a read-only key must be refused")
except AccessError:
    pass
print(f"OK: status {first}, {status.success_count} taken, {status.failure_count} refused, incident read back")
