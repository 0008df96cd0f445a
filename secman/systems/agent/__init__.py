"""The host agent (docs/agent.md), in a folder of its own: it runs as a plain script
(`python3 secman_agent.py`), and the script's folder is first on its import path, where
the systems app's selectors.py would shadow the standard library's `selectors`."""
