"""Anonymous reports of formalism and bureaucratism (issue 4).

models: the tables; codes: receipt codes; files: attachments and their metadata; states: the
state machine; service: drafts, submission, the reporter's and the supervisors' side;
keys: re-encryption under a new key; export, stats, poster: output for supervisors and notice
boards; deadlines: the acknowledge/answer deadlines for the reminder engine; cli: `qingfeng`
commands.
"""
