"""Streaming stack: MSK Serverless with IAM auth in the isolated subnets, per-topic grants."""

from __future__ import annotations

import json
from typing import Any

from infra_synth import Synthesized


def test_msk_serverless_with_iam_auth_in_isolated_subnets(each: Synthesized) -> None:
    cluster = each.one("Streaming", "AWS::MSK::ServerlessCluster")
    assert cluster["ClusterName"] == each.env.prefix
    assert cluster["ClientAuthentication"] == {"Sasl": {"Iam": {"Enabled": True}}}
    (vpc_config,) = cluster["VpcConfigs"]
    subnets = [subnet["Fn::ImportValue"] for subnet in vpc_config["SubnetIds"]]
    assert len(subnets) == 3
    assert all("dataSubnet" in subnet for subnet in subnets)


def test_cluster_security_group_admits_only_the_ingestion_consumers(each: Synthesized) -> None:
    group = each.one("Streaming", "AWS::EC2::SecurityGroup")
    assert "SecurityGroupIngress" not in group
    # No egress: the brokers answer, they never call out.
    assert group["SecurityGroupEgress"][0]["Description"] == "Disallow all traffic"
    rules = [
        r["Properties"]
        for r in each.resources("Compute", "AWS::EC2::SecurityGroupIngress").values()
    ]
    to_stream = [r for r in rules if "Streaming" in json.dumps(r["GroupId"])]
    assert len(to_stream) == 1
    (rule,) = to_stream
    assert (rule["FromPort"], rule["ToPort"], rule["IpProtocol"]) == (9098, 9098, "tcp")
    assert "Ingestion" in rule["SourceSecurityGroupId"]["Fn::GetAtt"][0]


def _statements(synth: Synthesized, stack: str, role_fragment: str) -> list[dict[str, Any]]:
    statements = []
    for policy in synth.resources(stack, "AWS::IAM::Policy").values():
        if any(role_fragment in json.dumps(role) for role in policy["Properties"]["Roles"]):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    assert statements, f"no policy for {role_fragment}"
    return statements


def _topics(resources: Any) -> set[str]:
    resources = resources if isinstance(resources, list) else [resources]
    return {resource["Fn::Join"][1][-1].lstrip("/") for resource in resources}


def test_producers_may_write_the_topics_and_nothing_else(each: Synthesized) -> None:
    statements = _statements(each, "Streaming", "ProducerRole")
    actions = {action for s in statements for action in _list(s["Action"])}
    assert actions == {
        "kafka-cluster:Connect",
        "kafka-cluster:DescribeCluster",
        "kafka:GetBootstrapBrokers",
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:WriteData",
    }
    write = next(s for s in statements if "kafka-cluster:WriteData" in _list(s["Action"]))
    assert _topics(write["Resource"]) == {t.name for t in each.env.streaming.topics}
    assert ":topic/" in json.dumps(write["Resource"])


def test_ingestion_reads_its_topics_as_its_group(each: Synthesized) -> None:
    statements = _statements(each, "Compute", "IngestionRole")
    read = next(s for s in statements if "kafka-cluster:ReadData" in _list(s["Action"]))
    assert _topics(read["Resource"]) == {t.name for t in each.env.streaming.topics}
    group = next(s for s in statements if "kafka-cluster:AlterGroup" in _list(s["Action"]))
    assert _topics(group["Resource"]) == {each.env.streaming.consumer_group}
    assert ":group/" in json.dumps(group["Resource"])
    assert not any("kafka-cluster:WriteData" in _list(s["Action"]) for s in statements)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
