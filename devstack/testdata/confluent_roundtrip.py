"""Round-trips events through a running `sluice dev` with Confluent's own
Python client (librdkafka underneath) and its Avro serde against the schema
registry: it publishes N transactions to `features` and reads one prediction
per event back from `predictions`.

usage: confluent_roundtrip.py BOOTSTRAP REGISTRY_URL N
Prints one JSON line: {"sent": N, "received": M, "unique": U, "ids_match": bool}.
"""
import datetime
import json
import sys
import time
import uuid

from confluent_kafka import Consumer, Producer
from confluent_kafka.avro.cached_schema_registry_client import CachedSchemaRegistryClient
from confluent_kafka.avro.serializer.message_serializer import MessageSerializer

bootstrap, registry, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

# The input schema as the registry has it (subject features-value).
sr = CachedSchemaRegistryClient({"url": registry})
_, schema, _ = sr.get_latest_schema("features-value")

# Confluent's serializer frames values as 0x00 + schema id + Avro body.
serde = MessageSerializer(sr)
producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
sent = []
for i in range(n):
    eid = str(uuid.uuid4())
    sent.append(eid)
    value = {
        "event_id": eid, "entity_id": "py-card-%d" % (i % 7),
        "event_time": datetime.datetime.now(tz=datetime.timezone.utc),
        "amount": 42.5 + i, "amount_zscore_30d": 0.1, "hour_of_day": 13.0, "day_of_week": 2.0,
        "merchant_risk": 0.2, "distance_from_home_km": 3.0, "distance_from_last_km": 1.0,
        "seconds_since_last_txn": 600.0, "txn_count_1h": 1.0, "txn_count_24h": 3.0,
        "amount_sum_24h": 120.0, "avg_amount_30d": 50.0, "card_age_days": 400.0,
        "account_age_days": 900.0, "failed_logins_24h": 0.0, "ip_risk_score": 0.1,
        "device_trust": 0.9, "velocity_score": 0.2, "chargebacks_180d": 0.0, "mcc_risk": 0.3,
        "card_present": i % 2 == 0, "channel": ["web", "mobile", "pos", "atm"][i % 4],
        "customer_income": None if i % 3 == 0 else 52000.0,
    }
    producer.produce(topic="features", key=value["entity_id"].encode(),
                     value=serde.encode_record_with_schema("features", schema, value))
producer.flush(30)

consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "py-roundtrip-%s" % uuid.uuid4(), "auto.offset.reset": "earliest",
})
consumer.subscribe(["predictions"])
want = set(sent)
got = []
deadline = time.time() + 60
while time.time() < deadline and len(want.intersection(got)) < n:
    msg = consumer.poll(1.0)
    if msg is None or msg.error():
        continue
    v = serde.decode_message(msg.value())
    if v["event_id"] in want:
        got.append(v["event_id"])
consumer.close()
print(json.dumps({"sent": n, "received": len(got), "unique": len(set(got)), "ids_match": set(got) == want}))
