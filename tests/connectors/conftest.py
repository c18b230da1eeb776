"""Fixtures of the connector tests: the real Kafka broker."""

from tests.connectors.kafka_broker import kafka_broker  # noqa: F401  (a fixture)
