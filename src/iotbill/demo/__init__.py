"""The demo: example plans and seeded, realistic telemetry for a month of IoT billing."""
