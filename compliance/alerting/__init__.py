"""Compliance, alerts and clues: heavy-pollution alerts and each permit's emergency measures
(`alerts`, `alert_store`, `alert_tables`, `alert_service`) and problem clues
(`clues`, `clue_store`, `clue_tables`, `clue_service`)."""
