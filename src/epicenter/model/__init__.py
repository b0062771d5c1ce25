"""Epidemic models: Rt estimation, the SEIR family, forecasts, scoring and scenarios."""
