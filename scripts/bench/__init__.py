"""What each endpoint costs: a report (numbers, never assertions), run with `make bench` (python -m scripts.bench).

1. DynamoDB requests per call of every route in template.yaml, with the items each call reads and writes,
   counted by a botocore hook on the client the handlers use, while the real handlers run on moto (endpoints).
2. Cold start of every function as Lambda's init runs it: a fresh interpreter in the function's deployed
   environment, the CPU time of importing its handler module and creating the first DynamoDB client, against a
   bare handler measured in the same runs (cold).
3. GET /tasks/next?skills=rare as the table fills with tasks it must not read: other skills, and 'rare'
   tasks that are claimed or finished. Seeded straight into moto (the repository's own item format) (growth).
4. The reads an idle long poll makes, from the poll interval, checked against a real (short) poll (poll).
5. What the timers cost per task lifecycle (happy path, claim expiry, auto-complete): Step Functions executions
   and state transitions, Lambda invocations, DynamoDB requests and stream records, counted on the local stack
   with the deadlines brought ~2 s near; then the cost per million lifecycles at AWS list prices (timers).
6. Whether the local stack stays fast and small: 200 sequential lifecycles over HTTP, the median of the first
   and the last 10, RSS and threads afterwards, in a fresh interpreter (local).

`--only cold` (or `--only growth,poll`) runs some of them. Capacity is estimated from item sizes
(scripts/bench/capacity.py): moto does not measure it. Everything the bench takes from the shared layer
(taskboard.*) it imports in scripts/bench/layer.py.
"""
