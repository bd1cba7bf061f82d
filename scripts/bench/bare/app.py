"""The bare handler cold starts are measured against: what any of our functions cannot do without (boto3, pydantic,
json) and nothing else. scripts/bench/cold_probe.py creates its DynamoDB client, as it does every function's."""

import json

import boto3
import pydantic


def handler(event: object, context: object) -> dict[str, object]:
    return {"statusCode": 200, "body": json.dumps({"boto3": boto3.__version__, "pydantic": pydantic.VERSION})}
