"""Date and time formats for every page: ISO-like and 24-hour, the time zone always named
(`2026-12-03 14:05 UTC`), whatever the locale would say."""
