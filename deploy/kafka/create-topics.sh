#!/usr/bin/env bash
# Create the healthscore contract topics (idempotent) and check their partition
# counts. Run by the compose `topic-init` service inside the apache/kafka image;
# works against any cluster:  BOOTSTRAP=host:9092 PARTITIONS=12 ./create-topics.sh
#
# Every input topic is keyed by account_id and has the same partition count, so
# one worker owns all of an account's streams without a repartition hop.
# The lists must match schemas/topics.py (tests/deploy checks it).
set -euo pipefail

BOOTSTRAP="${BOOTSTRAP:-kafka:9092}"
PARTITIONS="${PARTITIONS:-12}"
REPLICATION="${REPLICATION:-1}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"

TOPICS=(cs.usage.v1 cs.tickets.v1 cs.billing.v1 cs.feedback.v1 cs.alerts.v1 cs.dunning.v1 cs.deadletter.v1 cs.touchpoints.v1 cs.lifecycle.v1)
COMPACTED_TOPICS=(cs.accounts.v1 cs.health.v1 cs.subscriptions.v1)

topics() { "${KAFKA_BIN}/kafka-topics.sh" --bootstrap-server "${BOOTSTRAP}" "$@"; }

create() {
  local topic="$1"; shift
  topics --create --if-not-exists --topic "${topic}" \
    --partitions "${PARTITIONS}" --replication-factor "${REPLICATION}" "$@"
}

# An existing topic keeps its partition count under --if-not-exists; a mismatch
# would silently break the co-partitioning the worker relies on, so fail loudly.
check_partitions() {
  local topic="$1" count
  count="$(topics --describe --topic "${topic}" | grep -c 'Partition: ' || true)"
  if [[ "${count}" != "${PARTITIONS}" ]]; then
    echo "topic ${topic} has ${count} partitions, expected ${PARTITIONS}" >&2
    return 1
  fi
}

for topic in "${TOPICS[@]}"; do
  create "${topic}"
done
for topic in "${COMPACTED_TOPICS[@]}"; do
  create "${topic}" --config cleanup.policy=compact
done
for topic in "${TOPICS[@]}" "${COMPACTED_TOPICS[@]}"; do
  check_partitions "${topic}"
done
echo "healthscore topics ready: ${#TOPICS[@]} + ${#COMPACTED_TOPICS[@]} compacted, ${PARTITIONS} partitions each"
