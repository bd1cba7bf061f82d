#!/usr/bin/env bash
# Proves that `sam build` turns template.yaml into deployable artifacts on this machine.
# The template targets python3.12; the only Python here may be another version, so the check builds a copy
# whose runtime (and the layer's build method) is set to the local Python. Nothing else is changed.
set -euo pipefail
sam=$(realpath "${1:-$(command -v sam)}")
export SAM_CLI_TELEMETRY=0
here=$(cd "$(dirname "$0")/.." && pwd)
local_python="python$(python3 -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")')"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s/BuildMethod: python3\.[0-9]*/BuildMethod: ${local_python}/" "$here/template.yaml" > "$work/template.yaml"
ln -s "$here/functions" "$work/functions"
ln -s "$here/layers" "$work/layers"
cd "$work"
"$sam" build --template-file template.yaml --build-dir "$work/build" \
  --parameter-overrides "PythonRuntime=${local_python}" --no-cached >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
# Every function's handler must resolve to code in its build directory, and the layer must hold the package.
python3 - "$work/build" <<'PY'
import pathlib, sys, yaml
build = pathlib.Path(sys.argv[1])
class Loader(yaml.SafeLoader): pass
Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
template = yaml.load((build / "template.yaml").read_text(), Loader=Loader)
problems = []
for name, resource in template["Resources"].items():
    props = resource.get("Properties") or {}
    if resource["Type"] == "AWS::Serverless::Function":
        module = props["Handler"].rsplit(".", 1)[0]
        if not (build / props["CodeUri"] / f"{module}.py").exists():
            problems.append(f"{name}: {props['CodeUri']}/{module}.py missing")
    if resource["Type"] == "AWS::Serverless::LayerVersion":
        content = build / props["ContentUri"] / "python"
        for needed in ("taskboard/service.py", "aws_lambda_powertools", "pydantic", "jsonschema"):
            if not (content / needed).exists():
                problems.append(f"{name}: layer lacks {needed}")
if problems:
    sys.exit("sam build output is incomplete:\n" + "\n".join(problems))
print("sam build ok: every handler resolves to code and the layer holds its packages")
PY
