"""Scheduled reminders: a planner writes what is due to an outbox, a sender delivers it.

Both run as repeating jobs and keep everything in the database, so a restart (or a crash) loses
nothing and sends nothing twice, and two bot processes can share the work on PostgreSQL.
"""
