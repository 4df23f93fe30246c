"""Converters, one module per op family; every module here is imported when the registry is first used."""
