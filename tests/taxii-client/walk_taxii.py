"""Drives IntelSharing's TAXII 2.1 server with the OASIS taxii2-client (docs/stix-taxii.md).

Usage: /usr/bin/python3 walk_taxii.py <taxii2-client folder> <server url> <api key> <collection alias> <min objects> [absent alert id]
Walks discovery, the API root, the collections, every filter, as_pages over more than one page, the manifest,
object by id and versions, with the key as the HTTP Basic password. Exits non-zero on the first failure.
"""
import sys

sys.path.insert(0, sys.argv[1])
from taxii2client.v21 import Server, as_pages  # noqa: E402

url, key, alias, minimum = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
absent = sys.argv[6] if len(sys.argv) > 6 else None


def check(condition, message):
    if not condition:
        print("FAIL:", message)
        sys.exit(1)


server = Server(url, user="taxii-client", password=key)
check(len(server.api_roots) == 1, "one API root")
root = server.api_roots[0]
check("application/taxii+json;version=2.1" in root.versions, "the API root speaks TAXII 2.1")
collection = next(c for c in root.collections if c.alias == alias)
check(collection.can_read, "the collection is readable")

everything = []
pages = 0
for envelope in as_pages(collection.get_objects, per_request=5):
    pages += 1
    everything.extend(envelope.get("objects", []))
check(len(everything) >= minimum, f"at least {minimum} objects, got {len(everything)}")
check(minimum == 0 or pages > 1, f"as_pages walked {pages} page(s)")
if absent:
    check(all(absent not in str(o) for o in everything), f"nothing of alert {absent}")

indicators = collection.get_objects(type="indicator").get("objects", [])
check(all(o["type"] == "indicator" for o in indicators), "match[type]")
check(len(collection.get_objects(spec_version="2.1").get("objects", [])) > 0 or minimum == 0, "match[spec_version]")
check(len(collection.get_objects(added_after="2000-01-01T00:00:00.000Z").get("objects", [])) > 0 or minimum == 0, "added_after")
manifest = collection.get_manifest().get("objects", [])
check(len(manifest) > 0 or minimum == 0, "manifest")
if indicators:
    target = indicators[0]["id"]
    check(collection.get_objects(id=target, version="last").get("objects", [])[0]["id"] == target, "match[id] and match[version]")
    check(collection.get_object(target)["objects"][0]["id"] == target, "object by id")
    check(len(collection.object_versions(target)["versions"]) == 1, "object versions")
print(f"OK: {len(everything)} objects in {pages} pages, {len(indicators)} indicators, {len(manifest)} manifest entries")
