"""Alerts: who is told what when a saga needs an operator (services), and how it reaches them (channels)."""
