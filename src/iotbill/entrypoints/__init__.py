"""How people and programs reach iotbill: the command line (and later the HTTP API)."""
