"""One cold start, run by scripts/bench/cold.py in a fresh interpreter set up as Lambda's (environment, working
directory, PYTHONPATH): import the handler's module the way the runtime does, then create the first DynamoDB
client, and print the CPU time (time.process_time) each took as JSON. Only the standard library is loaded before
the clock starts, so whatever the handler's module pulls in is counted.

    python -s -P cold_probe.py MODULE [HIDDEN,PACKAGES]

HIDDEN,PACKAGES: top-level packages installed here but not deployed (dev tools); importing one fails, as it
would on Lambda, and the ones something tried are reported."""

import importlib
import json
import os
import sys
import time


class NotDeployed:
    """A meta path finder that answers "no such module" for packages a deployed function would not have."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.asked: set[str] = set()

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        top = name.partition(".")[0]
        if top in self.names:
            self.asked.add(top)
            raise ModuleNotFoundError(f"No module named {name!r} (not deployed)", name=name)


def main() -> None:
    module = sys.argv[1]
    hidden = NotDeployed(set(filter(None, (sys.argv[2] if len(sys.argv) > 2 else "").split(","))))
    sys.meta_path.insert(0, hidden)
    sys.stderr.write("bench: import start\n")  # -X importtime: what lies between the markers is the function's
    sys.stderr.flush()
    start = time.process_time()
    importlib.import_module(module)
    imported = time.process_time()
    import boto3

    boto3.client("dynamodb")
    done = time.process_time()
    sys.stderr.write("bench: import end\n")
    timing = {
        "import_ms": (imported - start) * 1000,
        "client_ms": (done - imported) * 1000,
        "hidden": sorted(hidden.asked),
    }
    print(json.dumps(timing), flush=True)
    sys.stderr.flush()
    os._exit(0)  # Lambda never tears an interpreter down between requests; neither does this count it


if __name__ == "__main__":
    main()
