"""Exit codes shared by every sub-command."""

OK = 0
#: a file could not be read (malformed or unsupported), or the arguments were wrong
BAD_INPUT = 2
#: the file is already in the catalogue
DUPLICATE = 3
#: the database or the telemetry file could not be written or read
STORAGE_FAILURE = 4
#: the merge of several sources was refused
MERGE_REFUSED = 5
