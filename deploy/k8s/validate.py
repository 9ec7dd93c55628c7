#!/usr/bin/python3
"""Strict offline check of Kubernetes manifests against the API's own types.

Every object is checked against the model classes of the Kubernetes Python client (Debian: python3-kubernetes),
which mirror the API's OpenAPI definitions: an unknown field at any depth (a typo such as `contaners:` or `prots:`),
a value of the wrong type (an unquoted `true` in a ConfigMap), or an unknown apiVersion/kind is an error. That is
what a cluster's server-side validation would refuse, found here without a cluster.

Usage: validate.py FILE...   (multi-document YAML; "-" reads stdin). Exits 1 and prints one line per error.
"""
import re
import sys

import yaml
from kubernetes import client

PRIMITIVES = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def model_class(api_version, kind):
    version = api_version.split("/")[-1]
    return getattr(client, version[0].upper() + version[1:] + kind, None)


def check(value, type_name, path, errors):
    if value is None:
        return
    if type_name in ("object", "datetime", "date"):
        return
    if type_name in PRIMITIVES:
        expected = PRIMITIVES[type_name]
        if not isinstance(value, expected) or (type_name == "int" and isinstance(value, bool)):
            errors.append(f"{path}: expected {type_name}, got {type(value).__name__} {value!r}")
        return
    listed = re.fullmatch(r"list\[(.+)\]", type_name)
    if listed:
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check(item, listed.group(1), f"{path}[{i}]", errors)
        return
    mapped = re.fullmatch(r"dict\(str, (.+)\)", type_name)
    if mapped:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        for key, item in value.items():
            check(item, mapped.group(1), f"{path}.{key}", errors)
        return
    model = getattr(client, type_name, None)
    if model is None:
        errors.append(f"{path}: the checker does not know the type {type_name}")
        return
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object ({type_name}), got {type(value).__name__}")
        return
    by_json_name = {json: attribute for attribute, json in model.attribute_map.items()}
    for key, item in value.items():
        if key not in by_json_name:
            errors.append(f"{path}.{key}: not a field of {type_name} (fields: {', '.join(sorted(by_json_name))})")
            continue
        check(item, model.openapi_types[by_json_name[key]], f"{path}.{key}", errors)


def main(paths):
    errors = []
    count = 0
    for path in paths:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        for document in yaml.safe_load_all(text):
            if document is None:
                continue
            count += 1
            name = f"{path}: {document.get('kind')}/{(document.get('metadata') or {}).get('name')}"
            model = model_class(str(document.get("apiVersion", "")), str(document.get("kind", "")))
            if model is None:
                errors.append(f"{name}: unknown apiVersion/kind {document.get('apiVersion')}/{document.get('kind')}")
                continue
            check(document, model.__name__, name, errors)
    for error in errors:
        print(error)
    if count == 0:
        print("no Kubernetes object found")
        return 1
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
