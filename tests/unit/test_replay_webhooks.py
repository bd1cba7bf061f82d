"""`make replay-webhooks` asks SQS to move the dead-letter queue back into the webhook queue of the named stack
(moto has no StartMessageMoveTask, so botocore's Stubber checks the exact requests)."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from scripts.replay_webhooks import replay

DLQ = "arn:aws:sqs:us-east-1:123456789012:agent-task-board-dev-WebhookDeadLetterQueue"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:agent-task-board-dev-WebhookQueue"


def test_replay_moves_the_dead_letter_queue_into_the_webhook_queue() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    cloudformation = boto3.client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(cloudformation) as cfn, Stubber(sqs) as queues:
        cfn.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": "agent-task-board-dev",
                        "CreationTime": "2026-11-22T00:00:00Z",
                        "StackStatus": "UPDATE_COMPLETE",
                        "Outputs": [
                            {"OutputKey": "WebhookDeadLetterQueueArn", "OutputValue": DLQ},
                            {"OutputKey": "WebhookQueueArn", "OutputValue": QUEUE},
                        ],
                    }
                ]
            },
            {"StackName": "agent-task-board-dev"},
        )
        queues.add_response(
            "start_message_move_task", {"TaskHandle": "handle-1"}, {"SourceArn": DLQ, "DestinationArn": QUEUE}
        )
        assert replay(sqs, cloudformation, "agent-task-board-dev") == "handle-1"
