"""The rectification ledger (整改台账): models, file import/export, the service and its CLI."""
