"""The `scaleplan` command line: options defined once, commands that parse, make one library call and present."""
