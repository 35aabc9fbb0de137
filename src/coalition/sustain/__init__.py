"""sustain: supply demand, days of supply, legal Class V days, medical coverage and precedence (pure)."""
