#!/usr/bin/env python3
"""Checks that the rendered manifests leave the API time to shut down cleanly (issue 11, item 3; docs/webhooks.md, "Shutdown").

After the kubelet runs preStop, it sends SIGTERM; the dispatcher then gives sends under way Delivery__ShutdownGraceSeconds
(ConfigMap; 10 s when absent, the DeliveryOptions default) and the host allows 10 s more to record what was cut off
(Program.cs: ShutdownTimeout = grace + 10). All of it must end before terminationGracePeriodSeconds, or the kubelet's SIGKILL
cuts the recording short and a delivery stays in flight until its lease ends. Usage: check-shutdown-timing.py RENDERED.yaml
"""
import sys

import yaml

DEFAULT_GRACE = 10
RECORDING = 10


def main(path):
    documents = [d for d in yaml.safe_load_all(open(path, encoding="utf-8") if path != "-" else sys.stdin) if d]
    deployments = [d for d in documents if d.get("kind") == "Deployment"]
    if len(deployments) != 1:
        sys.exit(f"expected one Deployment, found {len(deployments)}")
    pod = deployments[0]["spec"]["template"]["spec"]
    termination = pod.get("terminationGracePeriodSeconds", 30)
    api = next(c for c in pod["containers"] if c["name"] == "api")
    command = api.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    pre_stop = int(command[1]) if len(command) == 2 and command[0] == "sleep" else 0

    settings = {}
    names = {ref["configMapRef"]["name"] for ref in api.get("envFrom", []) if "configMapRef" in ref}
    for config_map in (d for d in documents if d.get("kind") == "ConfigMap" and d["metadata"]["name"] in names):
        settings.update(config_map.get("data", {}))
    grace = int(settings.get("Delivery__ShutdownGraceSeconds", DEFAULT_GRACE))

    needed = pre_stop + grace + RECORDING
    if needed >= termination:
        sys.exit(
            f"preStop {pre_stop} s + Delivery__ShutdownGraceSeconds {grace} s + {RECORDING} s to record = {needed} s, "
            f"not below terminationGracePeriodSeconds {termination} s: the kubelet would kill the pod mid-shutdown")
    print(f"preStop {pre_stop} s + grace {grace} s + {RECORDING} s = {needed} s < terminationGracePeriodSeconds {termination} s")


if __name__ == "__main__":
    main(sys.argv[1])
