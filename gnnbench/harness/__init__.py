"""The harness: suite -> run specs -> executor -> records in the store."""
