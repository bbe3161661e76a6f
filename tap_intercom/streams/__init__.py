"""Stream declarations, grouped by Intercom domain."""
