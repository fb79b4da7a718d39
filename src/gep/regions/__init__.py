"""GEP accounting on the platform: regions and zones from region packages, accounting runs, stored accounts."""
