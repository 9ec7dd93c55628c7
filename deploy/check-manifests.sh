#!/usr/bin/env bash
# Checks the Kubernetes manifests offline, so that a typo fails the build rather than the rollout:
#   1. kubectl kustomize renders deploy/k8s (YAML syntax, the kustomization, every listed file present);
#   2. every rendered object, the Secret template and the examples pass deploy/k8s/validate.py, a strict check of
#      every field and type against the Kubernetes API's models (python3-kubernetes);
#   3. the validator itself refuses a manifest with a misspelt field (so this check can fail);
#   4. the pod's terminationGracePeriodSeconds covers preStop, Delivery__ShutdownGraceSeconds and the time to record what
#      was cut off (deploy/k8s/check-shutdown-timing.py), and a too short one is refused.
# Ends with one line: N passed, N failed. Needs kubectl and /usr/bin/python3 with python3-kubernetes (.ci/run installs both).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python=/usr/bin/python3
passed=0 failed=0
check() { # check NAME COMMAND…
  local name="$1"
  shift
  if output="$("$@" 2>&1)"; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    sed 's/^/     /' <<< "$output"
  fi
}

rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
check "kubectl kustomize deploy/k8s renders" bash -c "kubectl kustomize deploy/k8s > '$rendered'"
check "the rendered manifests are valid Kubernetes objects" "$python" deploy/k8s/validate.py "$rendered"
check "the pod's termination grace covers preStop, the delivery grace and the recording" "$python" deploy/k8s/check-shutdown-timing.py "$rendered"
check "a termination grace too short for the shutdown is refused" bash -c \
  "! sed 's/terminationGracePeriodSeconds: 30/terminationGracePeriodSeconds: 20/' '$rendered' | '$python' deploy/k8s/check-shutdown-timing.py - > /dev/null"
check "the Secret template is a valid Kubernetes object" "$python" deploy/k8s/validate.py deploy/k8s/secret.template.yaml
for example in deploy/k8s/examples/*.yaml; do
  check "$example is a valid Kubernetes object" "$python" deploy/k8s/validate.py "$example"
done
check "a misspelt field is refused (containers → contaners)" bash -c \
  "! sed 's/containers:/contaners:/' deploy/k8s/deployment.yaml | '$python' deploy/k8s/validate.py - > /dev/null"
check "a wrongly typed value is refused (an unquoted boolean in a ConfigMap)" bash -c \
  "! sed 's/Database__MigrateOnStart: \"true\"/Database__MigrateOnStart: true/' deploy/k8s/configmap.yaml | '$python' deploy/k8s/validate.py - > /dev/null"

echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
