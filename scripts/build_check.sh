#!/usr/bin/env bash
# Proves that `sam build` turns template.yaml into deployable artifacts on this machine: the template itself,
# unchanged, built for the runtime `make build` picks (PythonRuntime; the layer's BuildMethod follows it).
# Usage: build_check.sh SAM PYTHON_RUNTIME
set -euo pipefail
sam=$(realpath "${1:-$(command -v sam)}")
runtime=${2:?the Python runtime to build for, e.g. python3.12}
export SAM_CLI_TELEMETRY=0
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$sam" build --template-file template.yaml --build-dir "$work/build" \
  --parameter-overrides "PythonRuntime=${runtime}" --no-cached >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
# Every function's handler must resolve to code in its build directory, and the layer must hold the package,
# its compiled parts built for the runtime and Lambda's arm64 (the SAM CLI's own Python has PyYAML).
"$(dirname "$sam")/python" - "$work/build" "$runtime" <<'PY'
import pathlib, sys, yaml
build, runtime = pathlib.Path(sys.argv[1]), sys.argv[2]
abi = "cpython-" + runtime.removeprefix("python").replace(".", "")
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
        for needed in ("aws_lambda_powertools", "pydantic", "jsonschema"):
            if not (content / needed).exists():
                problems.append(f"{name}: layer lacks {needed}")
        # every module of the shared package, in every one of its sub-packages (docs/architecture.md)
        source = pathlib.Path("layers/common")
        for module in sorted(source.glob("taskboard/**/*.py")):
            if not (content / module.relative_to(source)).exists():
                problems.append(f"{name}: layer lacks {module.relative_to(source)}")
        if not list(content.glob(f"pydantic_core/_pydantic_core.{abi}-aarch64-linux-gnu.so")):
            problems.append(f"{name}: pydantic_core is not built for {runtime} on arm64")
        if not list(content.glob(f"**/_re2.{abi}-aarch64-linux-gnu.so")):  # 1.1 at the top, newer under re2/
            problems.append(f"{name}: google-re2 is not built for {runtime} on arm64")
if problems:
    sys.exit("sam build output is incomplete:\n" + "\n".join(problems))
print("sam build ok: every handler resolves to code and the layer holds its packages")
PY
