"""Anonymous reports in chat: the reporter's intake and /status, the supervisors' inbox."""
