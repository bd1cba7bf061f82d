"""Replay the webhook dead-letter queue of a deployed stack: SQS moves every parked message back to the
webhook queue (StartMessageMoveTask, a managed SQS feature), where each starts its retry schedule over.

    make replay-webhooks STAGE=dev        (python -m scripts.replay_webhooks --stack agent-task-board-dev)
"""

from __future__ import annotations

import argparse
from typing import Any


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def replay(sqs: Any, cloudformation: Any, stack: str) -> str:
    """Start moving the dead-letter queue's messages back; returns the move task's handle."""
    outputs = stack_outputs(cloudformation, stack)
    started = sqs.start_message_move_task(
        SourceArn=outputs["WebhookDeadLetterQueueArn"], DestinationArn=outputs["WebhookQueueArn"]
    )
    return str(started["TaskHandle"])


def main() -> None:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", required=True, help="the CloudFormation stack, e.g. agent-task-board-dev")
    args = parser.parse_args()
    handle = replay(boto3.client("sqs"), boto3.client("cloudformation"), args.stack)
    print(f"Moving parked webhook deliveries back to the queue (task {handle}).")
    print("Progress: aws sqs list-message-move-tasks --source-arn <WebhookDeadLetterQueueArn>")


if __name__ == "__main__":
    main()
