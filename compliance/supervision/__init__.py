"""Compliance, supervision: hourly monitoring data and its mass accounting (`monitoring`),
anomaly screening (`screening`), the daily emissions and report checks
(`supervision_store`, `supervision_tables`, use cases `supervision_service`)."""
