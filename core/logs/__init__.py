"""The live-log pipeline: AstrBot's LogBroker subscription, the ring buffer and
redaction. Must not import the engine, the server or ``web``."""
